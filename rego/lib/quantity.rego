# METADATA
# title: Kubernetes quantities
# description: Parses resource quantities (500m, 1.5Gi, 1e3, 2) into numbers so they compare by value.
package lib.quantity

import data.lib.config
import data.lib.kubernetes as k8s

# Sub-unit suffixes divide (exact decimal arithmetic), the others multiply.
divisors := {"n": 1000000000, "u": 1000000, "m": 1000}

multipliers := {
	"": 1,
	"k": 1000,
	"M": 1000000,
	"G": 1000000000,
	"T": 1000000000000,
	"P": 1000000000000000,
	"E": 1000000000000000000,
	"Ki": 1024,
	"Mi": 1048576,
	"Gi": 1073741824,
	"Ti": 1099511627776,
	"Pi": 1125899906842624,
	"Ei": 1152921504606846976,
}

# The value of a quantity as a number; undefined when it does not parse.
# (String functions, not a regex: OPA's WebAssembly runtime recompiles regexes on every evaluation.)
parse(q) := q if is_number(q)

# The quantities of the object and of the configuration are parsed once per evaluation (rules are
# memoised, functions are not), however many rules compare them.
parse(q) := parsed[q]

parse(q) := parse_string(q) if {
	is_string(q)
	not parsed[q]
}

parsed[q] := parse_string(q) if {
	some entry in k8s.resourced_containers
	some section in ["requests", "limits"]
	some q in object.get(object.get(entry.container, "resources", {}), section, {})
	is_string(q)
}

parsed[q] := parse_string(q) if {
	some key in ["maxCpuLimit", "maxMemoryLimit"]
	q := config.value(key)
	is_string(q)
}

# The suffix is the run of suffix letters at the end ("Mi" of "512Mi", "" of "1e3": an exponent ends in
# a digit), so one split instead of trying every suffix; an unknown run ("mi", "Kb") parses to nothing.
parse_string(q) := scale(to_number(number), suffix) if {
	s := trim_space(q)
	number := trim_right(s, "numkMGTPEi")
	suffix := substring(s, count(number), -1)
	suffix in suffix_names
	numeric(number)
}

suffix_names := object.keys(multipliers) | object.keys(divisors)

# A decimal number with optional sign, fraction and exponent (what to_number accepts, minus hex and the like).
numeric(s) if {
	s != ""
	trim(s, "0123456789.eE+-") == ""
	not contains(s, "..")
	regular_digits(s)
}

regular_digits(s) if {
	mantissa := split(lower(s), "e")[0]
	digits := trim_left(mantissa, "+-")
	digits != ""
	digits != "."
	count(split(digits, ".")) <= 2
	trim(digits, "0123456789.") == ""
	count(split(lower(s), "e")) <= 2
}

scale(n, suffix) := n * multipliers[suffix]

scale(n, suffix) := n / divisors[suffix]

valid(q) if parse(q)

scale(n, suffix) := n * multipliers[suffix]

scale(n, suffix) := n / divisors[suffix]

valid(q) if parse(q) == 0
