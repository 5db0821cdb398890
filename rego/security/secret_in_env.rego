# METADATA
# title: Secret in environment variable
# description: >-
#   Passwords, tokens and keys written as literal env values end up in the manifest, in Git and in
#   every reader of the workload; they belong in a Secret referenced with valueFrom.secretKeyRef.
# custom:
#   id: secret-in-env
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["8.3.2", "8.6.2"]
#     ISO27001: ["A.5.17"]
#     CIS: ["5.4.1"]
#     NSA-CISA: ["Network separation and hardening: secrets"]
#   remediation: Move the value into a Secret and reference it with valueFrom.secretKeyRef (or mount the Secret as a file), then rotate the exposed credential.
package kubepolicy.security.secret_in_env

import data.lib.kubernetes as k8s
import data.lib.text

# Never put the value in the message: name the container and the variable only.
violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " sets env var ", text.quote(env_name), " to a literal value: ", text.str(reason(env_name, env.value))]),
	"path": concat("", [entry.pointer, "/env/", text.int(i), "/value"]),
} if {
	some entry in k8s.containers
	some i, env in object.get(entry.container, "env", [])
	is_string(env.value)
	env.value != ""
	not env.valueFrom
	env_name := object.get(env, "name", concat("", ["#", text.int(i)]))
	reason(env_name, env.value)
}

reason(name, value) := "the value looks like a private key" if {
	private_key(value)
} else := "the value looks like a cloud access key" if {
	cloud_key(value)
} else := "its name suggests a secret" if {
	secret_name(name)
	not reference(value)
}

secret_words := ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "KEY_CONTENT"]

secret_name(name) if {
	some word in secret_words
	contains(upper(name), word)
}

secret_name(name) if endswith(upper(name), "_KEY")

# Each pattern is guarded by a plain substring test: OPA's WebAssembly runtime compiles a regex on
# every evaluation, and most env values contain none of these markers.

# PEM private keys (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted) and PGP private key blocks.
private_key(value) if {
	contains(value, "PRIVATE KEY")
	regex.match(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`, value)
}

# AWS access key ids (long-term AKIA, temporary ASIA).
cloud_key(value) if {
	some marker in ["AKIA", "ASIA"]
	contains(value, marker)
	regex.match(`(^|[^A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}([^A-Z0-9]|$)`, value)
}

# A GCP service-account key file pasted as JSON.
cloud_key(value) if {
	contains(value, `"private_key"`)
	regex.match(`"private_key"\s*:`, value)
}

# A GCP API key.
cloud_key(value) if {
	contains(value, "AIza")
	regex.match(`AIza[0-9A-Za-z_-]{35}`, value)
}

# An Azure storage connection string.
cloud_key(value) if {
	contains(value, "AccountKey=")
	regex.match(`AccountKey=[A-Za-z0-9+/]{20,}`, value)
}

# A value that only expands another variable, $(DB_PASSWORD), holds no secret itself.
reference(value) if {
	startswith(value, "$(")
	regex.match(`^\$\([A-Za-z_][A-Za-z0-9_.-]*\)$`, value)
}
