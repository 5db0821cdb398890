package lib_test

import data.lib.images
import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.quantity
import data.lib.selectors
import data.lib.text

test_quantities_compare_by_value if {
	quantity.parse("500m") == 0.5
	quantity.parse("500m") < quantity.parse("1")
	quantity.parse("1536Mi") < quantity.parse("2Gi")
	quantity.parse("1e3") == quantity.parse("1k")
	quantity.parse(2) == 2
	quantity.parse("1.5Gi") == 1610612736
	quantity.parse(" 250M ") == 250000000
	quantity.parse("1E") == 1000000000000000000
	quantity.parse("1Ei") == 1152921504606846976
	quantity.parse(".5") == 0.5
	quantity.parse("2e-3") == 0.002
	quantity.parse("100n") < quantity.parse("1u")
	quantity.parse("1E3") == 1000
	quantity.parse("1.5e3m") == 1.5
}

test_images_of_the_object_are_parsed_from_the_memo if {
	images.parse("nginx:1.2") == {"registry": "docker.io", "repository": "library/nginx", "tag": "1.2", "digest": "", "reference": "docker.io/library/nginx"} with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "nginx:1.2"}]}}}
}

test_quantity_rejects_garbage if {
	not quantity.parse("lots")
	not quantity.parse("1.5Gb")
	not quantity.parse("")
	not quantity.parse("Gi")
	not quantity.parse("1.2.3")
	not quantity.parse("0x10")
	not quantity.parse("1e")
	not quantity.parse("5mi")
	not quantity.parse("2Kb")
	not quantity.parse("m")
	quantity.valid("0")
}

test_image_parsing if {
	images.parse("nginx") == {"registry": "docker.io", "repository": "library/nginx", "tag": "", "digest": "", "reference": "docker.io/library/nginx"}
	images.parse("registry.acme.com:5000/team/app:1.2.3").registry == "registry.acme.com:5000"
	images.parse("registry.acme.com:5000/team/app:1.2.3").tag == "1.2.3"
	images.parse("bitnami/redis@sha256:abc").digest == "sha256:abc"
	images.parse("bitnami/redis@sha256:abc").tag == ""
	images.parse("localhost/app:dev").registry == "localhost"
	images.pinned_by_digest("ghcr.io/a/b:1.0@sha256:0123")
	images.mutable("nginx:latest")
	images.mutable("nginx")
	images.mutable("nginx:stable")
	not images.mutable("nginx:1.25.3")
	not images.mutable("nginx:v2.0")
	images.from_registry("registry.acme.com/web:1", "registry.acme.com")
	not images.from_registry("registry.acme.com.evil.io/web:1", "registry.acme.com")
	images.from_registry("nginx:1", "docker.io")
	images.from_registry("gcr.io/acme/web:1", "gcr.io/acme")
	not images.from_registry("gcr.io/acmex/web:1", "gcr.io/acme")
}

test_patch_creates_missing_parents if {
	patch.set({}, "/c", ["securityContext", "runAsNonRoot"], true) == [{"op": "add", "path": "/c/securityContext", "value": {"runAsNonRoot": true}}]
	patch.set({"securityContext": {}}, "/c", ["securityContext", "runAsNonRoot"], true) == [{"op": "add", "path": "/c/securityContext/runAsNonRoot", "value": true}]
	patch.set({"m": {"labels": {"a": "b"}}}, "", ["m", "labels", "app.kubernetes.io/name"], "web") == [{"op": "add", "path": "/m/labels/app.kubernetes.io~1name", "value": "web"}]
}

test_selectors if {
	selectors.matches({}, {"app": "web"})
	selectors.matches({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "fe"})
	not selectors.matches({"matchLabels": {"app": "db"}}, {"app": "web"})
	selectors.matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]}, {"tier": "fe"})
	not selectors.matches({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"app": "x"})
	selectors.matches({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"app": "x"})
	selectors.matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, {"app": "a"})
	not selectors.matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, {"tier": "x"})
}

test_containers_of_every_kind if {
	pod := {"containers": [{"name": "a"}], "initContainers": [{"name": "i"}], "ephemeralContainers": [{"name": "e"}]}
	count(k8s.containers) == 3 with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": pod}}
	count(k8s.containers) == 3 with input as {"object": {"kind": "DaemonSet", "metadata": {"name": "p"}, "spec": {"template": {"spec": pod}}}}
	count(k8s.app_containers) == 1 with input as {"object": {"kind": "Job", "metadata": {"name": "p"}, "spec": {"template": {"spec": pod}}}}
	count(k8s.containers) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "p"}}}
	k8s.known("networkPolicies") with input as {"object": {}, "context": {"networkPolicies": []}}
	not k8s.known("networkPolicies") with input as {"object": {}, "context": {}}
}

test_text_str if {
	text.str("web") == "web"
	text.str(5) == "5"
	text.str(0.5) == "0.5"
	text.str(true) == "true"
	text.str(null) == "null"
}

test_text_quote if {
	text.quote("web") == `"web"`
	text.quote(`say "hi"`) == `"say \"hi\""`
	text.quote(3) == `"3"`
}

test_text_int if {
	text.int(0) == "0"
	text.int(12) == "12"
	text.int(2.5) == "2.5"
	text.int("x") == "x"
}
