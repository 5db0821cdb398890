# METADATA
# title: JSON Patch helpers
# description: Build RFC 6902 operations that set a nested field, creating the missing parents.
package lib.patch

# RFC 6901 escaping of one pointer segment.
escape(key) := replace(replace(key, "~", "~0"), "/", "~1") if is_string(key)

escape(key) := format_int(key, 10) if is_number(key)

pointer(base, keys) := concat("/", array.concat([base], [escape(k) | some k in keys]))

# Depth of the longest existing object prefix of keys under obj (the last key excluded).
existing_depth(obj, keys) := max({i |
	some i in numbers.range(0, count(keys) - 1)
	is_object(object.get(obj, array.slice(keys, 0, i), null))
})

nest(keys, value) := value if count(keys) == 0

nest(keys, value) := {keys[0]: value} if count(keys) == 1

nest(keys, value) := {keys[0]: {keys[1]: value}} if count(keys) == 2

nest(keys, value) := {keys[0]: {keys[1]: {keys[2]: value}}} if count(keys) == 3

# Operations that make obj[keys[0]][keys[1]]... == value, where obj sits at pointer base.
# `set(c, "/spec/template/spec/containers/0", ["securityContext", "privileged"], false)`
set(obj, base, keys, value) := [{
	"op": "add",
	"path": pointer(base, array.slice(keys, 0, n + 1)),
	"value": nest(array.slice(keys, n + 1, count(keys)), value),
}] if {
	n := existing_depth(obj, keys)
}

remove(base, keys) := [{"op": "remove", "path": pointer(base, keys)}]
