# METADATA
# title: Policy configuration
# description: >-
#   Tunable values of the built-in rules. The engine loads the organisation's settings as
#   data.config; every key falls back to the default below.
package lib.config

defaults := {
	"environment": "",
	"allowedRegistries": [],
	"minLogRetentionDays": 365,
	"defaults": {
		"cpuRequest": "100m",
		"memoryRequest": "128Mi",
		"cpuLimit": "500m",
		"memoryLimit": "512Mi",
	},
	"minReplicas": 2,
	"maxCpuLimit": "2",
	"maxMemoryLimit": "4Gi",
	"maxLimitRequestRatio": 4,
	"costLabels": ["team", "cost-center"],
	"requiredLabels": ["app.kubernetes.io/name", "app.kubernetes.io/version", "app.kubernetes.io/component"],
	"documentationAnnotations": ["owner", "runbook"],
	"maxCriticalVulnerabilities": 0,
}

default settings := {}

settings := data.config if is_object(data.config)

value(key) := object.get(settings, key, defaults[key])

# A fix default such as defaults.cpuRequest, each key falling back on its own.
fix_default(key) := object.get(object.get(settings, "defaults", {}), key, defaults.defaults[key])

production if value("environment") == "production"
