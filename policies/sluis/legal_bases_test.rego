# METADATA
# title: What each legal basis allows, as one table
# description: >-
#   One row per legal basis in data/legal_bases.json: the purposes it
#   allows and refuses, whether its outputs are held for review, and the
#   project fields it requires. The tests run a real query decision for
#   every row and purpose. When you add or change a basis in the
#   catalogue, add or change its row here: a basis without a row fails
#   test_table_lists_every_basis.
package sluis.legal_bases_test

import data.sluis.authz
import data.sluis.catalogue
import data.sluis.fixtures
import data.sluis.lib

table := {
	"wpg-art22": {
		"allowed": {"research", "statistics"},
		"denied": {"investigation", "supervision"},
		"review_required": false,
		"required_fields": set(),
	},
	"awr-43c": {
		"allowed": {"research", "statistics"},
		"denied": {"investigation", "supervision"},
		"review_required": true,
		"required_fields": {"exemption_reference"},
	},
	"douanewet": {
		"allowed": {"research", "statistics"},
		"denied": {"investigation", "supervision"},
		"review_required": false,
		"required_fields": set(),
	},
	"wjsg": {
		"allowed": {"research", "statistics"},
		"denied": {"investigation", "supervision"},
		"review_required": false,
		"required_fields": set(),
	},
	"avg-6-1e": {
		"allowed": {"research", "statistics", "supervision"},
		"denied": {"investigation"},
		"review_required": false,
		"required_fields": set(),
	},
}

# Every field any row requires, filled in.
all_fields := {f: "REF-2026-1" | some row in table; some f in row.required_fields}

# query_under(basis, purpose, fields) is an otherwise allowed query on one
# dataset shared under basis, in a project with that purpose and basis.
query_under(basis, purpose, fields) := {
	"action": "query",
	"today": "2026-11-23",
	"user": fixtures.analyst,
	"project": object.union(
		object.remove(fixtures.project, {"fields"}),
		{"legal_basis": basis, "purpose": purpose, "fields": fields, "approved_orgs": ["lab-partner"]},
	),
	"datasets": [{"id": "dx", "org": "lab-partner", "legal_basis": basis, "in_project": true}],
	"query": object.union(fixtures.police_query, {"dataset": "dx"}),
}

test_table_lists_every_basis if {
	object.keys(table) == object.keys(catalogue.bases)
}

test_each_basis_classifies_every_purpose if {
	every row in table {
		row.allowed | row.denied == lib.purposes
		count(row.allowed & row.denied) == 0
	}
}

# The table and the catalogue say the same, so a catalogue edit that
# changes what a basis allows or requires must change the table too.
test_table_matches_the_catalogue if {
	every basis, row in table {
		{p | some p in catalogue.bases[basis].purposes} == row.allowed
		catalogue.required_fields(basis) == row.required_fields
		catalogue.bases[basis].obligations.review_required == row.review_required
	}
}

# Purpose binding, per basis and purpose, and the review obligation.
test_each_basis_allows_exactly_its_purposes if {
	every basis, row in table {
		every purpose in row.allowed {
			decision := authz.decision with input as query_under(basis, purpose, all_fields)
			decision.allow == true
			decision.obligations.review_required == row.review_required
			decision.obligations.min_entities >= fixtures.default_obligations.min_entities
		}
		every purpose in row.denied {
			decision := authz.decision with input as query_under(basis, purpose, all_fields)
			decision.allow == false
			decision.reasons == [sprintf(
				"purpose_not_allowed: dataset dx is shared under %s, which allows the purposes %s but not %s (purpose binding); use it only in a project with an allowed purpose",
				[basis, concat(", ", sort(row.allowed)), purpose],
			)]
		}
	}
}

# Required project fields, per basis: a project without them is refused
# with one reason per field.
test_each_basis_requires_its_project_fields if {
	every basis, row in table {
		some purpose in row.allowed
		decision := authz.decision with input as query_under(basis, purpose, {"exemption_reference": null, "dpia_reference": null})
		{r | some r in decision.reasons} == {sprintf(
			"missing_project_field: legal basis %s requires project p1 to record its %s, which is missing or empty; record the %s on the project (the project owner or a privacy officer can add it) and query again",
			[basis, f, f],
		) |
			some f in row.required_fields
		}
		needs_none := count(row.required_fields) == 0
		decision.allow == needs_none
	}
}
