"""CloudNativePG: a cluster per service, each with its own database and owner; backups with PITR in prod."""

from __future__ import annotations

BARMAN = "barman-cloud.cloudnative-pg.io"


def test_each_service_has_its_own_cluster_and_database(manifests, service):
    cluster = manifests.get("Cluster", f"{service}-db")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["spec"]["bootstrap"]["initdb"] == {"database": service, "owner": service}
    assert ":" in cluster["spec"]["imageName"]
    assert not cluster["spec"]["imageName"].endswith(":latest")
    assert {"requests", "limits"} <= set(cluster["spec"]["resources"])


def test_no_cluster_is_shared(manifests):
    assert len(manifests.of_kind("Cluster")) == 4


def test_prod_clusters_are_highly_available(prod, service):
    assert prod.get("Cluster", f"{service}-db")["spec"]["instances"] >= 3


def test_prod_archives_wal_and_backs_up_daily(prod, service):
    cluster = prod.get("Cluster", f"{service}-db")
    (plugin,) = cluster["spec"]["plugins"]
    assert plugin["name"] == BARMAN
    assert plugin["isWALArchiver"] is True
    store = prod.get("ObjectStore", plugin["parameters"]["barmanObjectName"])
    assert store["spec"]["configuration"]["destinationPath"].endswith(f"/{service}")
    assert store["spec"]["retentionPolicy"]
    backups = [b for b in prod.of_kind("ScheduledBackup") if b["spec"]["cluster"]["name"] == f"{service}-db"]
    assert len(backups) == 1
    assert backups[0]["spec"]["method"] == "plugin"
    assert backups[0]["spec"]["pluginConfiguration"]["name"] == BARMAN
    assert len(backups[0]["spec"]["schedule"].split()) == 6, "CloudNativePG's cron format has seconds"


def test_dev_runs_single_instances_without_backups(dev):
    assert all(c["spec"]["instances"] == 1 for c in dev.of_kind("Cluster"))
    assert not dev.of_kind("ScheduledBackup", "ObjectStore")
