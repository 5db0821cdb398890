# METADATA
# title: Container image references
# description: Splits an image reference into registry, repository, tag and digest.
package lib.images

import data.lib.kubernetes as k8s

# {"registry", "repository", "tag", "digest", "reference"} of an image string; tag and digest are "" when absent.
# The images of the object under evaluation are parsed once per evaluation (rules are memoised,
# functions are not), however many rules ask.
parse(image) := parsed[image]

parse(image) := parse_reference(image) if not parsed[image]

parsed[image] := parse_reference(image) if {
	some entry in k8s.containers
	image := entry.container.image
	is_string(image)
}

parse_reference(image) := {
	"registry": registry(name),
	"repository": repository(name),
	"tag": tag,
	"digest": digest,
	"reference": concat("/", [registry(name), repository(name)]),
} if {
	[before_digest, digest] := split_digest(image)
	[name, tag] := split_tag(before_digest)
}

split_digest(image) := [substring(image, 0, i), substring(image, i + 1, -1)] if {
	i := indexof(image, "@")
	i >= 0
}

split_digest(image) := [image, ""] if indexof(image, "@") < 0

# A tag follows the last colon of the last path segment (a registry port's colon is followed by a slash).
# (String functions, not a regex: OPA's WebAssembly runtime recompiles regexes on every evaluation.)
split_tag(name) := [concat("/", array.concat(array.slice(segments, 0, n - 1), [tagged[0]])), tagged[1]] if {
	segments := split(name, "/")
	n := count(segments)
	tagged := split(segments[n - 1], ":")
	count(tagged) == 2
}

split_tag(name) := [name, ""] if {
	segments := split(name, "/")
	not contains(segments[count(segments) - 1], ":")
}

first_segment(name) := split(name, "/")[0]

explicit_registry(name) if {
	contains(name, "/")
	registry_like(first_segment(name))
}

registry_like(segment) if contains(segment, ".")

registry_like(segment) if contains(segment, ":")

registry_like("localhost")

registry(name) := first_segment(name) if explicit_registry(name)

registry(name) := "docker.io" if not explicit_registry(name)

repository(name) := substring(name, count(first_segment(name)) + 1, -1) if explicit_registry(name)

repository(name) := concat("/", ["library", name]) if {
	not explicit_registry(name)
	not contains(name, "/")
}

repository(name) := name if {
	not explicit_registry(name)
	contains(name, "/")
}

pinned_by_digest(image) if startswith(parse(image).digest, "sha256:")

# A version tag: 1, 1.4, v2.0, 1.25.3, 1.25.3-alpine, v1.2.3+build (at most four numeric parts).
version_tag(tag) if {
	core := split(split(split(trim_prefix(tag, "v"), "-")[0], "+")[0], "_")[0]
	parts := split(core, ".")
	count(parts) <= 4
	every part in parts {
		part != ""
		trim(part, "0123456789") == ""
	}
}

# A tag that can move: none, latest, or not a version; unless pinned by digest.
mutable(image) if {
	not pinned_by_digest(image)
	not version_tag(parse(image).tag)
}

# True when the image comes from registry (a host, or host/path prefix such as gcr.io/acme).
from_registry(image, allowed) if {
	prefix := trim_suffix(allowed, "/")
	some candidate in [parse(image).reference, image]
	within(candidate, prefix)
}

within(candidate, prefix) if candidate == prefix

within(candidate, prefix) if startswith(candidate, concat("", [prefix, "/"]))
