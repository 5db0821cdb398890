# METADATA
# title: Unsafe sysctls
# description: >-
#   Pods may only set the namespaced sysctls Kubernetes considers safe; the others can affect
#   other pods or the node and are refused by the kubelet unless explicitly allowed.
# custom:
#   id: unsafe-sysctls
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.9"]
#     CIS: ["5.7.3"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Remove the unsafe sysctls from securityContext.sysctls and tune the node instead, or isolate the workload on dedicated nodes.
package kubepolicy.security.unsafe_sysctls

import data.lib.kubernetes as k8s
import data.lib.text

# The safe sysctls of Kubernetes 1.29+ (Pod Security Standards, baseline profile).
safe_sysctls := {
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
}

violation contains {
	"msg": concat("", [k8s.workload, " sets unsafe sysctl ", text.str(s.name), " in securityContext.sysctls"]),
	"path": concat("", [k8s.pod_spec_pointer, "/securityContext/sysctls/", text.int(i)]),
} if {
	k8s.is_workload
	some i, s in object.get(k8s.pod_spec, ["securityContext", "sysctls"], [])
	is_string(s.name)
	not normalized(s.name) in safe_sysctls
}

# Kubernetes accepts both separators: net/ipv4/tcp_syncookies is net.ipv4.tcp_syncookies.
normalized(sysctl) := replace(sysctl, "/", ".")
