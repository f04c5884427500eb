package sluis.catalogue_test

import data.sluis.catalogue

# OPA loads every JSON file of policies/data/ into data.data, so the
# catalogue and its schema arrive merged; split them by their top-level keys.
catalogue_keys := {"legal_bases", "default_obligations"}

schema_keywords := {"$schema", "$id", "title", "description", "type", "required", "properties", "definitions"}

shipped_catalogue := object.filter(data.data, catalogue_keys)

shipped_schema := object.filter(data.data, schema_keywords)

test_catalogue_matches_its_schema if {
	[valid, errors] := json.match_schema(shipped_catalogue, shipped_schema)
	print(errors)
	valid
	errors == []
}

test_schema_rejects_broken_entries if {
	broken := json.patch(shipped_catalogue, [
		{"op": "remove", "path": "/legal_bases/wpg-art22/purposes"},
		{"op": "replace", "path": "/legal_bases/awr-43c/obligations/min_entities", "value": "ten"},
		{"op": "add", "path": "/legal_bases/Bad Name", "value": {}},
	])
	[valid, errors] := json.match_schema(broken, shipped_schema)
	not valid
	count(errors) >= 3
}

test_contract_bases_present if {
	every basis in ["wpg-art22", "awr-43c", "douanewet", "wjsg", "avg-6-1e"] {
		catalogue.exists(basis)
	}
}

# The contract: wpg-art22 is for scientific research and statistics only.
test_wpg_art22_allows_research_and_statistics_only if {
	catalogue.allows_purpose("wpg-art22", "research")
	catalogue.allows_purpose("wpg-art22", "statistics")
	not catalogue.allows_purpose("wpg-art22", "investigation")
	not catalogue.allows_purpose("wpg-art22", "supervision")
}

test_tax_outputs_held_for_review if {
	catalogue.bases["awr-43c"].obligations.review_required == true
	"exemption_reference" in catalogue.bases["awr-43c"].required_project_fields
}

# Sluis releases aggregates only, so every basis must demand anonymous output.
test_every_basis_requires_anonymous_output if {
	every basis in catalogue.bases {
		basis.anonymous_output_required == true
	}
}

# No shipped basis allows investigation: labs build system-level insight,
# never case files.
test_no_basis_allows_investigation if {
	every name, _ in catalogue.bases {
		not catalogue.allows_purpose(name, "investigation")
	}
}

# Defaults are the floor (see sluis.obligations); a basis looser than them
# would be silently tightened, so the shipped catalogue has none.
test_no_basis_looser_than_defaults if {
	d := data.data.default_obligations
	every basis in catalogue.bases {
		o := basis.obligations
		o.min_entities >= d.min_entities
		o.dominance_n >= d.dominance_n
		o.dominance_k <= d.dominance_k
		o.p_percent >= d.p_percent
		o.rounding_base >= d.rounding_base
	}
}

test_unknown_or_odd_basis_does_not_exist if {
	not catalogue.exists("convenant")
	not catalogue.exists(null)
	not catalogue.exists(["wpg-art22"])
}

test_allowed_purposes_text if {
	catalogue.allowed_purposes("avg-6-1e") == "research, statistics, supervision"
	catalogue.allowed_purposes("unknown") == "none"
}

test_broken_catalogue_knows_no_basis if {
	not catalogue.exists("wpg-art22") with data.data.legal_bases as "oops"
	catalogue.bases == {} with data.data.legal_bases as ["wpg-art22"]
}

test_basis_with_broken_purposes_allows_nothing if {
	not catalogue.allows_purpose("wpg-art22", "research") with data.data.legal_bases["wpg-art22"].purposes as "research"
	catalogue.allowed_purposes("wpg-art22") == "none" with data.data.legal_bases["wpg-art22"].purposes as [1, 2]
}
