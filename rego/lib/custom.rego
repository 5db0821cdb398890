# METADATA
# title: Custom rule conditions
# description: >-
#   Helpers of the Rego that src/policy/custom generates from JSON custom rules (config customRules).
#   A missing field is null: it satisfies only not_exists (and exists with value false), so a rule never
#   passes for want of the field it checks.
package lib.custom

# The elements a [*] ranges over, with their index (a map's values keyed by their names); none when absent.
indexed(x) := x if is_array(x)

indexed(x) := x if is_object(x)

indexed(x) := [] if {
	not is_array(x)
	not is_object(x)
}

# A value at a path below x (JSON Pointer-like keys: strings for fields, numbers for indexes), or null.
at(x, path) := object.get(x, path, null) if is_object(x)

at(x, path) := object.get(x, path, null) if is_array(x)

at(x, path) := x if {
	not is_object(x)
	not is_array(x)
	count(path) == 0
}

at(x, path) := null if {
	not is_object(x)
	not is_array(x)
	count(path) > 0
}

# JSON Pointer segment of a key or index.
segment(k) := format_int(k, 10) if is_number(k)

segment(k) := replace(replace(k, "~", "~0"), "/", "~1") if is_string(k)

# True when the context holds a fact under this key (a list, or an object such as the Namespace).
context_present(key) if {
	some k, _ in object.get(input, "context", {})
	k == key
}

# True when a fact named under facts.<name> could be known for this object.
fact_known(name) if {
	some key, _ in data.lib.facts.values
	key == name
}

# How an index or key of a [*] reads in a message: [0] or ["name"].
index_label(k) := concat("", ["[", format_int(k, 10), "]"]) if is_number(k)

index_label(k) := concat("", ["[\"", k, "\"]"]) if is_string(k)

# contains: a substring of a string, or an element of a list.
holds_value(value, expected) if {
	is_string(value)
	is_string(expected)
	contains(value, expected)
}

holds_value(value, expected) if {
	is_array(value)
	expected in value
}
