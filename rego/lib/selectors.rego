# METADATA
# title: Label selectors
# description: Kubernetes label selector matching (matchLabels and matchExpressions).
package lib.selectors

# True when a LabelSelector matches labels. An empty selector matches everything.
matches(selector, labels) if {
	every key, value in object.get(selector, "matchLabels", {}) {
		labels[key] == value
	}
	every expression in object.get(selector, "matchExpressions", []) {
		expression_matches(expression, labels)
	}
}

expression_matches(e, labels) if {
	e.operator == "In"
	labels[e.key] in e.values
}

expression_matches(e, labels) if {
	e.operator == "NotIn"
	not value_in(labels, e.key, e.values)
}

expression_matches(e, labels) if {
	e.operator == "Exists"
	labels[e.key]
}

expression_matches(e, labels) if {
	e.operator == "DoesNotExist"
	not labels[e.key]
}

# (A helper, not `not labels[k] in values`: that fails instead of succeeding when the label is absent.)
value_in(labels, key, values) if labels[key] in values

# A plain map selector (Service, ReplicationController style) that matches labels.
map_matches(selector, labels) if {
	every key, value in selector {
		labels[key] == value
	}
}
