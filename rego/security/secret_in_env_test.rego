package kubepolicy.security.secret_in_env_test

import data.kubepolicy.security.secret_in_env

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAabc\n-----END RSA PRIVATE KEY-----\n"

gcp_json := `{"type": "service_account", "project_id": "p", "private_key_id": "1", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}`

test_fires_once_per_secret_looking_env_var if {
	findings := secret_in_env.violation with input as deployment({
		"containers": [{"name": "app", "image": "app:1", "env": [
			{"name": "DB_PASSWORD", "value": "hunter2"},
			{"name": "LOG_LEVEL", "value": "debug"},
			{"name": "api_key", "value": "abc123"},
			{"name": "GITHUB_TOKEN", "value": "ghp_x"},
			{"name": "CLIENT_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
			{"name": "MYSQL_PASSWD", "value": "x"},
			{"name": "Cloud_Credentials", "value": "x"},
			{"name": "TLS_KEY_CONTENT", "value": "x"},
		]}],
		"initContainers": [{"name": "migrate", "env": [{"name": "APP_SECRET", "value": "s3cr3t"}]}],
	})
	count(findings) == 7
	some f in findings
	f.path == "/spec/template/spec/containers/0/env/0/value"
	f.msg == `container "app" of Deployment "web" sets env var "DB_PASSWORD" to a literal value: its name suggests a secret`
	object.keys(f) == {"msg", "path"}
}

test_fires_on_secret_looking_values if {
	findings := secret_in_env.violation with input as deployment({"containers": [{"name": "app", "env": [
		{"name": "TLS", "value": pem},
		{"name": "AWS_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
		{"name": "CONFIG", "value": "region=eu-west-1 id=ASIAY34FZKBOKMUTVV7A"},
		{"name": "GOOGLE_APPLICATION_JSON", "value": gcp_json},
		{"name": "GMAPS", "value": "AIzaSyA1234567890abcdefghijklmnopqrstuv"},
		{"name": "STORAGE", "value": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFyYmF6cXV4cXV1eA==;EndpointSuffix=core.windows.net"},
		{"name": "ID", "value": "AKIA-not-a-key"},
	]}]})
	count(findings) == 6
	{f.path | some f in findings} == {sprintf("/spec/template/spec/containers/0/env/%d/value", [i]) | some i in numbers.range(0, 5)}
	some f in findings
	f.msg == `container "app" of Deployment "web" sets env var "TLS" to a literal value: the value looks like a private key`
}

test_messages_never_contain_the_value if {
	findings := secret_in_env.violation with input as deployment({"containers": [{"name": "app", "env": [
		{"name": "DB_PASSWORD", "value": "hunter2"},
		{"name": "AWS_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
		{"name": "TLS", "value": pem},
	]}]})
	count(findings) == 3
	every f in findings {
		not contains(f.msg, "hunter2")
		not contains(f.msg, "AKIAIOSFODNN7EXAMPLE")
		not contains(f.msg, "MIIE")
	}
}

test_quiet_for_references_and_empty_values if {
	count(secret_in_env.violation) == 0 with input as deployment({"containers": [{"name": "app", "env": [
		{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
		{"name": "API_TOKEN", "value": ""},
		{"name": "APP_PASSWORD", "value": "$(DB_PASSWORD)"},
		{"name": "KEYCLOAK_URL", "value": "https://sso"},
		{"name": "KEYS_DIR", "value": "/keys"},
		{"name": "PUBLIC_KEYRING", "value": "x"},
		{"name": "LOG_LEVEL", "value": "info"},
	]}]})
}

test_quiet_for_non_workloads if {
	count(secret_in_env.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"PASSWORD": "x"}}}
}
