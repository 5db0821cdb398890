# METADATA
# title: Message text
# description: >-
#   Builds finding messages and field paths with concat instead of sprintf. In WebAssembly sprintf is a
#   call to the host (its arguments serialised out, the result parsed back), about 5 µs each; findings
#   make one or two, which was a quarter of an evaluation's time. These helpers stay in the module.
package lib.text

# A value as sprintf's %v prints a scalar: a string as it is, anything else as JSON (5, 0.5, true).
str(x) := x if is_string(x)

else := json.marshal(x)

# A value as %q: a quoted string literal ("web"); a number is quoted as its text ("5").
quote(x) := json.marshal(str(x))

# A whole number as %d (array indexes in field paths); anything else as str.
int(x) := format_int(x, 10) if {
	is_number(x)
	x == floor(x)
} else := str(x)
