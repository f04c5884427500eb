# METADATA
# title: Sluis input helpers
# description: >-
#   Reads the input document the gateway sends and gives the other
#   packages safe views of it. Reasons only ever print names through
#   label(), so an odd or hostile input can never be echoed back.
package sluis.lib

# Actions and roles the gateway knows about.
actions := {
	"upload_dataset",
	"view_dataset",
	"create_project",
	"approve_project",
	"query",
	"review",
	"list_reviews",
	"read_audit",
	"edit_policy",
}

roles := {"steward", "analyst", "privacy_officer", "admin"}

purposes := {"research", "statistics", "investigation", "supervision"}

column_roles := {"identifier", "quasi_identifier", "category", "measure", "date", "text"}

# The fields of the input the rules read. Each is null when missing, so
# that a reason can always be written, whatever the gateway sent. (Read
# directly rather than through field(): every decision reads them, and a
# function call costs more than a look-up.)
action := v if {
	v := input.action
} else := null

role := v if {
	v := input.user.role
} else := null

username := v if {
	v := input.user.username
} else := null

org := v if {
	v := input.user.org
} else := null

# The project, or an empty object when the request holds none.
project := p if {
	p := input.project
	is_object(p)
} else := {}

# field(x, key) is x[key], or null when x has no such key (or is no object).
field(x, key) := v if {
	v := x[key]
} else := null

# The datasets the request touches; anything that is not an object is
# left out here and reported by malformed_datasets.
datasets := [ds | some ds in input.datasets; is_object(ds)] if {
	is_array(input.datasets)
} else := []

# True when the datasets field is present (and not null) but is not a list
# of objects.
malformed_datasets if {
	is_object(input)
	"datasets" in object.keys(input)
	not is_array(input.datasets)
	not is_null(input.datasets)
}

malformed_datasets if {
	some ds in input.datasets
	not is_object(ds)
}

# label(x) is x when x is a short name (an id, username, column name or
# legal-basis name), and a placeholder otherwise.
label(x) := x if {
	is_string(x)
	regex.match(`^[\p{L}\p{N} _.:/@-]{1,128}$`, x)
} else := "(missing or malformed)"

# dataset_label names a dataset by its id; an upload has no id yet.
dataset_label(ds) := label(ds.id) if {
	is_string(ds.id)
} else := "(new dataset)"

# labels(xs) is the sorted, comma-separated labels of the strings in xs.
labels(xs) := concat(", ", sort({label(x) | some x in xs}))

# filled(project, f) holds when the project records field f (one of its
# "fields", such as exemption_reference) as a non-blank string. Any key
# counts, so a field a later gateway sends is read the same way.
filled(project, f) if {
	v := project.fields[f]
	is_string(v)
	trim_space(v) != ""
}

is_date(x) if {
	is_string(x)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, x)
}
