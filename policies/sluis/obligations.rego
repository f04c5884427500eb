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

import data.sluis.catalogue
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

# The obligations the anonymiser must apply to this request.
merged := {
	"min_entities": max(values("min_entities")),
	"dominance_n": max(values("dominance_n")),
	"dominance_k": min(values("dominance_k")),
	"p_percent": max(values("p_percent")),
	"rounding_base": max(values("rounding_base")),
	"review_required": true in values("review_required"),
}

# values(key) is every value of key that applies: the default and the
# value of each dataset's legal basis.
values(key) := {default_value(key)} | {v |
	some ds in lib.datasets
	v := basis_value(ds.legal_basis, key)
}

default_value(key) := v if {
	v := data.data.default_obligations[key]
	well_typed(key, v)
} else := builtin_defaults[key]

basis_value(basis, key) := v if {
	catalogue.exists(basis)
	v := catalogue.bases[basis].obligations[key]
	well_typed(key, v)
} else := default_value(key)

well_typed("review_required", v) if is_boolean(v)

well_typed(key, v) if {
	key != "review_required"
	is_number(v)
	v >= 0
}
