# METADATA
# title: Kubernetes quantities
# description: Parses resource quantities (500m, 1.5Gi, 1e3, 2) into numbers so they compare by value.
package lib.quantity

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

parse(q) := value if {
	is_string(q)
	s := trim_space(q)
	candidates := {v |
		some suffix in suffix_names
		endswith(s, suffix)
		number := trim_suffix(s, suffix)
		numeric(number)
		v := scale(to_number(number), suffix)
	}
	count(candidates) == 1
	some value in candidates
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
