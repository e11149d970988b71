"""Operations layer: prod backups, monitoring and alerts, optional Argo CD."""
