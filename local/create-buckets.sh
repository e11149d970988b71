#!/bin/bash
# Creates the buckets named in LOCAL_BUCKETS in the moto server (run by compose's moto-init).
set -euo pipefail

: "${LOCAL_BUCKETS:?LOCAL_BUCKETS is not set; run pingvas-infra local-env}"
read -r -a buckets <<<"$LOCAL_BUCKETS"
# One listing instead of a HEAD per bucket: each AWS CLI call costs a Python start-up.
read -r -a existing <<<"$(aws s3api list-buckets --query 'Buckets[].Name' --output text)"
for bucket in "${buckets[@]}"; do
  if [[ " ${existing[*]} " != *" $bucket "* ]]; then
    aws s3api create-bucket --bucket "$bucket" >/dev/null
  fi
  echo "bucket ready: $bucket"
done
