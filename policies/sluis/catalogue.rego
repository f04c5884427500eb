# METADATA
# title: Sluis legal-basis catalogue
# description: >-
#   Look-ups in the legal-basis catalogue policies/data/legal_bases.json,
#   which OPA loads as data.data. Each basis says which project purposes
#   it allows (purpose binding, doelbinding) and which disclosure
#   obligations its outputs carry.
package sluis.catalogue

# The catalogue's bases by identifier (wpg-art22, awr-43c, ...); empty if
# the file is missing or broken, so every basis is then unknown (deny).
bases := b if {
	b := data.data.legal_bases
	is_object(b)
} else := {}

# exists(b) holds when b names a basis in the catalogue.
exists(b) if {
	is_string(b)
	is_object(bases[b])
}

# allows_purpose(b, p) holds when basis b allows project purpose p.
allows_purpose(b, p) if {
	exists(b)
	is_string(p)
	is_array(bases[b].purposes)
	p in bases[b].purposes
}

# allowed_purposes(b) lists the purposes of basis b for a reason text.
allowed_purposes(b) := s if {
	s := concat(", ", sort({p | some p in bases[b].purposes; is_string(p)}))
	s != ""
} else := "none"
