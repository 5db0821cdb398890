# METADATA
# title: Container runtime socket mounted
# description: >-
#   A pod that mounts the Docker, containerd or CRI-O socket from the node can start privileged
#   containers and read every other container on the node: it is root on the host.
# custom:
#   id: container-runtime-socket
#   category: security
#   severity: critical
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.12"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Remove the hostPath volume of the container runtime socket; build images with a daemonless builder and talk to the Kubernetes API instead of the runtime.
package kubepolicy.security.container_runtime_socket

import data.lib.kubernetes as k8s
import data.lib.text

# File names of the runtime sockets (Docker, containerd, CRI-O).
socket_files := {"docker.sock", "containerd.sock", "crio.sock"}

violation contains {
	"msg": concat("", [k8s.workload, " mounts the container runtime socket ", text.quote(host_path), " through hostPath volume ", text.quote(object.get(v, "name", concat("", ["#", text.int(i)])))]),
	"path": concat("", [k8s.pod_spec_pointer, "/volumes/", text.int(i), "/hostPath/path"]),
} if {
	k8s.is_workload
	some i, v in k8s.volumes
	host_path := v.hostPath.path
	is_string(host_path)
	runtime_socket(host_path)
}

# The last segment of the path, ignoring trailing slashes, names a runtime socket.
runtime_socket(host_path) if {
	segments := split(trim_right(host_path, "/"), "/")
	segments[count(segments) - 1] in socket_files
}
