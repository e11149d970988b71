#!/bin/bash
# Creates the buckets named in LOCAL_BUCKETS in the moto server (run by compose's moto-init).
set -euo pipefail

: "${LOCAL_BUCKETS:?LOCAL_BUCKETS is not set; run pingvas-infra local-env}"
read -r -a buckets <<<"$LOCAL_BUCKETS"
for bucket in "${buckets[@]}"; do
  if ! aws s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
    aws s3api create-bucket --bucket "$bucket" >/dev/null
  fi
  echo "bucket ready: $bucket"
done
