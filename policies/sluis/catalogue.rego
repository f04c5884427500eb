# METADATA
# title: Sluis legal-basis catalogue
# description: >-
#   Look-ups in the legal-basis catalogue policies/data/legal_bases.json,
#   which OPA loads as data.data. Each basis says which project purposes
#   it allows (purpose binding, doelbinding), which project fields it
#   requires and which disclosure obligations its outputs carry.
package sluis.catalogue

# The catalogue's bases by identifier (wpg-art22, awr-43c, ...); empty if
# the file is missing or broken, so every basis is then unknown (deny).
# Used to list the known bases in a reason. The look-ups below read one
# entry by key instead: taking the whole catalogue costs a copy of every
# description, and the gateway needs each decision within a millisecond.
bases := b if {
	b := data.data.legal_bases
	is_object(b)
} else := {}

# exists(b) holds when b names a basis in the catalogue.
exists(b) if {
	is_string(b)
	is_object(data.data.legal_bases[b])
}

# allows_purpose(b, p) holds when basis b allows project purpose p.
allows_purpose(b, p) if {
	is_string(p)
	purposes := data.data.legal_bases[b].purposes
	is_array(purposes)
	p in purposes
}

# allowed_purposes(b) lists the purposes of basis b for a reason text.
allowed_purposes(b) := s if {
	s := concat(", ", sort({p | some p in data.data.legal_bases[b].purposes; is_string(p)}))
	s != ""
} else := "none"

# required_fields(b) is the set of project fields basis b requires (for
# example exemption_reference for awr-43c); empty when it requires none.
required_fields(b) := {f | some f in data.data.legal_bases[b].required_project_fields; is_string(f)}
