# METADATA
# title: hostPath volume
# description: >-
#   Pods should not mount directories or files of the node through hostPath volumes; they bypass
#   the container's filesystem isolation and can expose host credentials, sockets and configuration.
# custom:
#   id: host-path-volume
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.12"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Replace the hostPath volume with an emptyDir, ConfigMap, Secret, projected or PersistentVolumeClaim volume.
package kubepolicy.security.host_path_volume

import data.lib.kubernetes as k8s
import data.lib.text

violation contains {
	"msg": concat("", [k8s.workload, " mounts hostPath volume ", text.quote(volume_name(v, i)), " (host path ", text.quote(object.get(v.hostPath, "path", "")), ")"]),
	"path": concat("", [k8s.pod_spec_pointer, "/volumes/", text.int(i)]),
} if {
	k8s.is_workload
	some i, v in k8s.volumes
	is_object(v.hostPath)
}

volume_name(v, _) := v.name

volume_name(v, i) := concat("", ["#", text.int(i)]) if not v.name
