"""Strimzi: a KRaft cluster on node pools, topics as resources, and ACLs that keep each topic single-writer."""

from __future__ import annotations

from pathlib import Path

PUBLIC_TOPICS = {"cases.events.v1", "identity.events.v1"}
PRIVATE_MAIL_TOPIC = "identity.mail.v1"
PRIVATE_MAIL_DLQ = "notifications.mail.dlq"  # the mail topic's dead letters carry its confirmation links
OWNERS = {"cases.events.v1": "cases", "identity.events.v1": "identity", "identity.mail.v1": "identity"}
CONSUMER_GROUPS = {"attachments", "cases", "notifications"}
# Strimzi 1.2.0 (the operator docs/runbook.md names) supports Kafka 4.2.0, 4.2.1, 4.3.0 and 4.3.1.
REPO = Path(__file__).resolve().parents[2]
STRIMZI_KAFKA_VERSIONS = {"4.2.0", "4.2.1", "4.3.0", "4.3.1"}


def acls(user):
    return [
        (a["resource"]["type"], a["resource"]["name"], a["resource"].get("patternType", "literal"), op)
        for a in user["spec"]["authorization"]["acls"]
        for op in a["operations"]
    ]


def topic_grants(manifests, operation):
    """topic name -> users allowed `operation` on it (literal grants only; prefixed or wildcard ones fail below)."""
    grants = {}
    for user in manifests.of_kind("KafkaUser"):
        for kind, name, pattern, op in acls(user):
            if kind == "topic" and op in (operation, "All"):
                assert pattern == "literal", (user["metadata"]["name"], name)
                assert "*" not in name, (user["metadata"]["name"], name)
                grants.setdefault(name, set()).add(user["metadata"]["name"])
    return grants


def test_kafka_runs_in_kraft_mode_on_node_pools(manifests):
    (kafka,) = manifests.of_kind("Kafka")
    spec = kafka["spec"]
    assert "zookeeper" not in spec
    assert "replicas" not in spec["kafka"], "node pools own replicas"
    assert "storage" not in spec["kafka"], "node pools own storage"
    pools = [
        p for p in manifests.of_kind("KafkaNodePool") if p["metadata"]["labels"]["strimzi.io/cluster"] == "casefold"
    ]
    roles = {r for p in pools for r in p["spec"]["roles"]}
    assert roles == {"controller", "broker"}
    for pool in pools:
        (volume,) = pool["spec"]["storage"]["volumes"]
        assert volume["kraftMetadata"] == "shared"


def test_prod_has_a_three_node_quorum_and_three_brokers(prod):
    pools = {p["metadata"]["name"]: p["spec"] for p in prod.of_kind("KafkaNodePool")}
    assert pools["controller"]["roles"] == ["controller"]
    assert pools["controller"]["replicas"] == 3
    assert pools["broker"]["roles"] == ["broker"]
    assert pools["broker"]["replicas"] >= 3
    config = prod.get("Kafka", "casefold")["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False


def test_every_client_authenticates_and_acls_are_enforced(manifests):
    kafka = manifests.get("Kafka", "casefold")["spec"]["kafka"]
    assert kafka["authorization"]["type"] == "simple"
    assert all(listener["authentication"]["type"] == "scram-sha-512" for listener in kafka["listeners"])
    assert {(listener["name"], listener["port"]) for listener in kafka["listeners"]} == {("tls", 9092)}
    for user in manifests.of_kind("KafkaUser"):
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == "casefold"


def test_topics_exist_with_partitions_and_replication(manifests):
    topics = {t["spec"]["topicName"]: t["spec"] for t in manifests.of_kind("KafkaTopic")}
    assert set(topics) == set(OWNERS) | {f"{g}.dlq" for g in CONSUMER_GROUPS} | {PRIVATE_MAIL_DLQ}
    replicas = 3 if manifests.overlay == "prod" else 1
    for name, spec in topics.items():
        assert spec["replicas"] == replicas, name
        assert spec["config"]["min.insync.replicas"] < spec["replicas"] or replicas == 1, name
    assert topics["cases.events.v1"]["partitions"] >= 6
    assert topics["identity.events.v1"]["partitions"] >= 3


def test_only_the_owning_service_writes_its_topic(manifests):
    writers = topic_grants(manifests, "Write")
    for topic, owner in OWNERS.items():
        assert writers[topic] == {owner}, topic
    for group in CONSUMER_GROUPS:
        assert writers[f"{group}.dlq"] == {group}
    assert writers[PRIVATE_MAIL_DLQ] == {"notifications"}


def test_support_tooling_reads_public_topics_only(manifests):
    tooling = acls(manifests.get("KafkaUser", "support-tooling"))
    topics_read = {name for kind, name, _, op in tooling if kind == "topic" and op in ("Read", "All")}
    assert topics_read == PUBLIC_TOPICS
    assert PRIVATE_MAIL_TOPIC not in {name for _, name, _, _ in tooling}
    assert PRIVATE_MAIL_DLQ not in {name for _, name, _, _ in tooling}
    assert not [a for a in tooling if a[0] == "topic" and a[3] in ("Write", "All")]


def test_only_notifications_reads_the_private_mail_topic(manifests):
    readers = topic_grants(manifests, "Read")
    assert readers[PRIVATE_MAIL_TOPIC] == {"notifications"}
    assert "support-tooling" in readers["cases.events.v1"]


def test_the_mail_topics_dead_letters_go_to_a_private_topic_only_notifications_reads(manifests):
    config = manifests.named("ConfigMap", "notifications-config")["data"]
    assert config["NOTIFICATIONS_MAIL_DEAD_LETTER_TOPIC"] == PRIVATE_MAIL_DLQ
    assert topic_grants(manifests, "Read")[PRIVATE_MAIL_DLQ] == {"notifications"}
    assert topic_grants(manifests, "Describe")[PRIVATE_MAIL_DLQ] == {"notifications"}
    topics = {t["spec"]["topicName"]: t["spec"] for t in manifests.of_kind("KafkaTopic")}
    retention = int(topics[PRIVATE_MAIL_DLQ]["config"]["retention.ms"])
    assert retention <= int(topics[PRIVATE_MAIL_TOPIC]["config"]["retention.ms"])


def test_consumers_may_use_their_own_groups_only(manifests):
    for user in manifests.of_kind("KafkaUser"):
        name = user["metadata"]["name"]
        groups = {(n, p) for kind, n, p, _ in acls(user) if kind == "group"}
        assert groups <= {(name, "prefix")}, name


def test_workers_log_in_as_their_own_kafka_user(manifests, service):
    config = manifests.named("ConfigMap", f"{service}-config")["data"]
    prefix = service.upper()
    assert config[f"{prefix}_KAFKA_SASL_USERNAME"] == service
    assert config[f"{prefix}_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    manifests.get("KafkaUser", service)
    worker = manifests.get("Deployment", f"{service}-worker")["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in worker["env"] if "valueFrom" in e}
    assert refs[f"{prefix}_KAFKA_SASL_PASSWORD"] == {"name": service, "key": "password"}


def test_the_kafka_version_is_one_the_pinned_strimzi_supports_and_the_local_broker_runs(manifests):
    from casefold_local.kafka import KAFKA_VERSION

    version = manifests.get("Kafka", "casefold")["spec"]["kafka"]["version"]
    assert version in STRIMZI_KAFKA_VERSIONS
    assert version == KAFKA_VERSION
    runbook = (REPO / "docs" / "runbook.md").read_text()
    assert "| Strimzi | 1.2.0 " in runbook
    assert f"quay.io/strimzi/kafka:1.2.0-kafka-{version}" in runbook


def test_clients_reach_kafka_over_tls_only_from_the_listed_peers(manifests):
    (listener,) = manifests.get("Kafka", "casefold")["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True
    peers = [p["podSelector"]["matchLabels"] for p in listener["networkPolicyPeers"]]
    assert {"app.kubernetes.io/part-of": "casefold", "app.kubernetes.io/component": "worker"} in peers
    assert all(p and "namespaceSelector" not in p for p in peers), "no peer may admit every pod"
    assert not [p for p in peers if p.get("app.kubernetes.io/component") == "api"]


def test_every_worker_speaks_sasl_ssl_and_trusts_the_cluster_ca(manifests, service):
    prefix = service.upper()
    config = manifests.named("ConfigMap", f"{service}-config")["data"]
    assert config[f"{prefix}_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    cafile = config[f"{prefix}_KAFKA_SSL_CAFILE"]
    pod = manifests.get("Deployment", f"{service}-worker")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = [m for m in pod["containers"][0]["volumeMounts"] if cafile.startswith(m["mountPath"].rstrip("/") + "/")]
    (mount,) = mounts
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "casefold-cluster-ca-cert"
    assert [i["path"] for i in secret["items"]] == [cafile.rsplit("/", 1)[1]]
