# METADATA
# title: Sluis disclosure obligations
# description: >-
#   Merges the disclosure obligations of the legal bases of every dataset
#   a request touches into the strictest combination: the most entities,
#   the largest n and smallest k for (n,k) dominance, the largest p for the
#   p% rule, the largest rounding base, and review if any basis asks for
#   it. The catalogue's default_obligations are the floor: a basis can only
#   make them stricter, and a dataset with an unknown basis gets them.
package sluis.obligations

import data.sluis.lib

# Used only when the catalogue's default_obligations are missing or broken.
builtin_defaults := {
	"min_entities": 10,
	"dominance_n": 2,
	"dominance_k": 85,
	"p_percent": 10,
	"rounding_base": 1,
	"review_required": false,
}

# The obligations the anonymiser must apply to this request: the
# strictest value of each obligation over the defaults and every legal
# basis the request's datasets use. A value that is missing or of the
# wrong type is ignored (the default applies).
#
# For speed (every decision computes this) the values are first merged as
# they are and only the result is checked; that gives the same answer as
# checking each value whenever the defaults are complete and well typed,
# because a value of the wrong type either wins the max or min, and then
# fails the check, or loses to the default. Otherwise the values are checked
# one by one (careful).
merged := fast if {
	complete(catalogue_defaults)
	fast := merge(array.concat([catalogue_defaults], basis_obligations))
	is_number(fast.min_entities)
	is_number(fast.dominance_n)
	is_number(fast.dominance_k)
	fast.dominance_k >= 0
	is_number(fast.p_percent)
	is_number(fast.rounding_base)
} else := careful

careful := merge(array.concat([defaults], [object.union(defaults, typed(o)) | some o in basis_obligations]))

# The obligations handed to the anonymiser: the merged ones, plus a
# differential-privacy epsilon when any basis (or the defaults) asks for
# one. The smallest epsilon is the strictest (most noise); a basis without
# one does not switch differential privacy off for the others.
in_force := object.union(merged, dp) if {
	dp := object.union({"dp_epsilon": min(epsilons)}, budget)
} else := merged

# The project's total budget: the smallest any basis sets.
budget := {"dp_budget": min(budgets)} if {
	count(budgets) > 0
} else := {}

budgets := {b |
	some o in array.concat([catalogue_defaults], basis_obligations)
	b := o.dp_budget
	is_number(b)
	b > 0
}

epsilons := {e |
	some o in array.concat([catalogue_defaults], basis_obligations)
	e := o.dp_epsilon
	is_number(e)
	e > 0
}

# merge(os) is the strictest value of each obligation over the objects os.
merge(os) := {
	"min_entities": max({o.min_entities | some o in os}),
	"dominance_n": max({o.dominance_n | some o in os}),
	"dominance_k": min({o.dominance_k | some o in os}),
	"p_percent": max({o.p_percent | some o in os}),
	"rounding_base": max({o.rounding_base | some o in os}),
	"review_required": true in {o.review_required | some o in os},
}

# The obligations of each legal basis the datasets use, as they are in the
# catalogue (an unknown basis has none).
basis_obligations := [o |
	some ds in lib.datasets
	o := data.data.legal_bases[ds.legal_basis].obligations
]

# The catalogue's default_obligations; the built-in value for a key that
# is missing or of the wrong type.
defaults := object.union(builtin_defaults, typed(catalogue_defaults))

catalogue_defaults := d if {
	d := data.data.default_obligations
} else := {}

# typed(o) is o when it holds every obligation, well typed (the normal
# case: the catalogue test checks the catalogue against its schema), else
# only its well-typed obligations.
typed(o) := o if {
	complete(o)
} else := {key: v |
	some key, v in o
	well_typed(key, v)
}

complete(o) if {
	is_number(o.min_entities)
	o.min_entities >= 0
	is_number(o.dominance_n)
	o.dominance_n >= 0
	is_number(o.dominance_k)
	o.dominance_k >= 0
	is_number(o.p_percent)
	o.p_percent >= 0
	is_number(o.rounding_base)
	o.rounding_base >= 0
	is_boolean(o.review_required)
}

well_typed("review_required", v) if is_boolean(v)

well_typed(key, v) if {
	key in numeric
	is_number(v)
	v >= 0
}

numeric := {"min_entities", "dominance_n", "dominance_k", "p_percent", "rounding_base"}
