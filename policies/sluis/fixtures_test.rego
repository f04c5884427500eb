# METADATA
# title: Test fixtures
# description: >-
#   Users, datasets, projects, queries and expected obligations shared by
#   the policy tests. Holds no tests itself.
package sluis.fixtures

# Obligations from the shipped catalogue's default_obligations.
default_obligations := {
	"min_entities": 10,
	"dominance_n": 2,
	"dominance_k": 85,
	"p_percent": 10,
	"rounding_base": 1,
	"review_required": false,
}

# Obligations once tax data (awr-43c) is involved: outputs held for review.
tax_obligations := object.union(default_obligations, {"review_required": true})

# The revision every decision names under `opa test`: the gateway pushes
# data.policy_meta only to the OPA server.
revision := "unversioned"

# Exact decisions, for tests that compare the whole answer.
allowed(obligations) := decided(true, [], obligations)

denied(reasons) := decided(false, reasons, default_obligations)

denied_with(reasons, obligations) := decided(false, reasons, obligations)

decided(allow, reasons, obligations) := {
	"allow": allow,
	"reasons": reasons,
	"obligations": obligations,
	"policy_revision": revision,
}

analyst := {"username": "anna", "role": "analyst", "org": "politie"}

police_steward := {"username": "sam", "role": "steward", "org": "politie"}

tax_steward := {"username": "tessa", "role": "steward", "org": "belastingdienst"}

customs_steward := {"username": "dirk", "role": "steward", "org": "douane"}

officer := {"username": "olga", "role": "privacy_officer", "org": "nsoc"}

second_officer := {"username": "pieter", "role": "privacy_officer", "org": "nsoc"}

admin := {"username": "adam", "role": "admin", "org": "nsoc"}

police_dataset := {"id": "d1", "org": "politie", "legal_basis": "wpg-art22", "in_project": true}

tax_dataset := {"id": "d2", "org": "belastingdienst", "legal_basis": "awr-43c", "in_project": true}

project := {
	"id": "p1",
	"name": "Fenomeenbeeld",
	"purpose": "research",
	"legal_basis": "wpg-art22",
	"status": "active",
	"expires_at": "2027-06-30",
	"is_member": true,
	"requested_by": "anna",
	"dataset_ids": ["d1", "d2"],
	"fields": {"exemption_reference": "ontheffing-2026-17", "dpia_reference": null},
	"approved_orgs": ["politie", "belastingdienst"],
	"officer_approved": true,
}

# Not yet approved by anyone.
pending_project := object.union(project, {"status": "pending", "approved_orgs": [], "officer_approved": false})

# A query over police data joined with tax data on the person entity.
joined_query := {
	"dataset": "d1",
	"joins": [{"dataset": "d2", "on": "person_id", "on_role": "identifier", "on_is_entity": true}],
	"group_by": [{"column": "region", "role": "category"}],
	"filters": [{"column": "year", "role": "date", "op": "eq"}],
	"aggregates": [{"fn": "count", "column": null, "role": null}, {"fn": "sum", "column": "amount", "role": "measure"}],
}

# The same query on police data alone.
police_query := object.union(joined_query, {"joins": []})

# An allowed query request; tests change one thing at a time.
query_request := {
	"action": "query",
	"today": "2026-11-23",
	"user": analyst,
	"project": project,
	"datasets": [police_dataset, tax_dataset],
	"query": joined_query,
}

police_query_request := object.union(query_request, {"datasets": [police_dataset], "query": police_query})

# The catalogue's bases as deny reasons list them, so adding a basis keeps these tests valid.
known_bases := concat(", ", sort([b | some b, _ in data.data.legal_bases]))
