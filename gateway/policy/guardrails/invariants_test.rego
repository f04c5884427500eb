# METADATA
# title: Sluis guard rails
# description: >-
#   Invariants that every policy set must keep, whatever the privacy
#   officers change. The gateway runs these tests against each proposed
#   policy set (opa test STAGING_DIR gateway/policy/guardrails) and refuses
#   the set when one fails, naming the failing test_invariant_*. They ask
#   data.sluis.authz.decision only, with requests written here (not the
#   policy set's own fixtures, which the officers may edit), so they hold
#   for any acceptable set. The catalogue data.data.legal_bases is read only
#   to build requests for the bases it holds and to check behaviour where a
#   basis exists. Every request is decided twice: as `opa test` sees it, and
#   as the OPA server does, with the revision the gateway pushes to
#   data.policy_meta. This folder is not editable through the API.
package guardrails

# ---------------------------------------------------------------------------
# Deciding

# The revision the gateway pushes to data.policy_meta (a sha256 in hex).
served_revision := "5d41402abc4b2a76b9719d911017c592ae2a8cbb0d2e4a1c55b7a4f0e3c6d1b8"

# decisions(request) is the decision for request without and with the
# revision data; "undefined" where the policy gives no decision at all.
decisions(request) := [plain(request), served(request)]

plain(request) := d if {
	d := data.sluis.authz.decision with input as request
} else := "undefined"

served(request) := d if {
	d := data.sluis.authz.decision with input as request
		with data.policy_meta as {"revision": served_revision}
} else := "undefined"

# The decisions when the request holds no input document at all.
without_input := [plain_without_input, served_without_input]

plain_without_input := d if {
	d := data.sluis.authz.decision
} else := "undefined"

served_without_input := d if {
	d := data.sluis.authz.decision with data.policy_meta as {"revision": served_revision}
} else := "undefined"

# allowed(request) holds when either decision allows the request. The
# gateway allows only on a JSON true, so only true counts.
allowed(request) if {
	some d in decisions(request)
	d.allow == true
}

# explain(violations) always holds; it prints how many requests broke an
# invariant and the first few, so the refusal the gateway shows says which
# requests were wrongly decided (without listing hundreds).
explain(violations) if count(violations) == 0

explain(violations) if {
	count(violations) > 0
	print(sprintf(
		"invariant broken by %d request(s), for example: %s",
		[count(violations), concat("; ", array.slice(sort(violations), 0, 5))],
	))
}

# ---------------------------------------------------------------------------
# Requests

today := "2026-11-23"

analyst := {"username": "noor", "role": "analyst", "org": "politie"}

officer := {"username": "fatima", "role": "privacy_officer", "org": "nsoc"}

second_officer := {"username": "joost", "role": "privacy_officer", "org": "nsoc"}

admin := {"username": "bram", "role": "admin", "org": "nsoc"}

purposes := {"research", "statistics", "investigation", "supervision"}

# The bases of the contract, and any other the catalogue holds.
contract_bases := {"wpg-art22", "awr-43c", "douanewet", "wjsg", "avg-6-1e"}

catalogue_bases := {b | some b, entry in data.data.legal_bases; is_object(entry)}

tested_bases := contract_bases | catalogue_bases

# The organisation sharing data under each basis.
owner(basis) := org if {
	org := {
		"wpg-art22": "politie",
		"awr-43c": "belastingdienst",
		"douanewet": "douane",
		"wjsg": "om",
		"avg-6-1e": "gemeente",
	}[basis]
} else := "partner"

dataset(basis) := {"id": concat("-", ["ds", basis]), "org": owner(basis), "legal_basis": basis, "in_project": true}

# The purposes the catalogue allows for a basis, else research, so that a
# base request is one the policy set can allow (each invariant then checks
# that one thing more makes it refuse).
base_purposes(basis) := ps if {
	ps := {p | some p in data.data.legal_bases[basis].purposes; p in purposes}
	count(ps) > 0
} else := {"research"}

# Every project field that any basis in the catalogue requires, filled in.
all_fields := object.union(
	{"exemption_reference": "ONT-2026-0042", "dpia_reference": "DPIA-2026-0007"},
	{f: "REF-2026-0001" |
		some entry in data.data.legal_bases
		some f in entry.required_project_fields
		is_string(f)
	},
)

# query_request(datasets, purpose, basis) is a query by a member analyst
# in an active, approved project with the given purpose and basis, on the
# datasets, joined on the person entity: a request a policy may allow.
query_request(datasets, purpose, basis) := {
	"action": "query",
	"today": today,
	"user": analyst,
	"project": {
		"id": "prj-7",
		"name": "Fenomeenbeeld ondermijning",
		"purpose": purpose,
		"legal_basis": basis,
		"status": "active",
		"expires_at": "2027-06-30",
		"is_member": true,
		"requested_by": analyst.username,
		"dataset_ids": [ds.id | some ds in datasets],
		"fields": all_fields,
		"approved_orgs": [ds.org | some ds in datasets],
		"officer_approved": true,
	},
	"datasets": datasets,
	"query": {
		"dataset": datasets[0].id,
		"joins": [{"dataset": ds.id, "on": "person_id", "on_role": "identifier", "on_is_entity": true} |
			some i, ds in datasets
			i > 0
		],
		"group_by": [{"column": "region", "role": "category"}],
		"filters": [{"column": "year", "role": "date", "op": "eq"}],
		"aggregates": [
			{"fn": "count", "column": null, "role": null},
			{"fn": "sum", "column": "amount", "role": "measure"},
		],
	},
}

# The base requests: one per basis and purpose it allows, and a join of
# police and tax data.
base_requests[label] := request if {
	some basis in tested_bases
	some purpose in base_purposes(basis)
	label := sprintf("query on %s data for %s", [basis, purpose])
	request := query_request([dataset(basis)], purpose, basis)
}

base_requests["query joining wpg-art22 and awr-43c data for research"] := query_request(
	[dataset("wpg-art22"), dataset("awr-43c")],
	"research", "wpg-art22",
)

# Changing one part of a request; set_project(r, k, v) sets r.project[k]
# to v, replacing what was there.
set_key(obj, key, value) := object.union(object.remove(obj, {key}), {key: value})

set_project(request, key, value) := set_key(request, "project", set_key(request.project, key, value))

drop_project(request, key) := set_key(request, "project", object.remove(request.project, {key}))

set_query(request, key, value) := set_key(request, "query", set_key(request.query, key, value))

# A value given to a field, or the field left out.
missing := "(left out)"

change_project(request, key, value) := drop_project(request, key) if {
	value == missing
} else := set_project(request, key, value)

# violations(cases) names each case the policy set allows.
violations(cases) := {label | some label, request in cases; allowed(request)}

# ---------------------------------------------------------------------------
# Membership and project life cycle

# METADATA
# title: A non-member never queries
# description: >-
#   A query is never allowed unless the project says the user is a member
#   (is_member exactly true), whatever else the request holds.
test_invariant_non_member_never_queries if {
	explain(violations(non_member_cases))
	count(violations(non_member_cases)) == 0
}

non_member_cases[label] := change_project(request, "is_member", value) if {
	some base, request in base_requests
	some value in [false, null, "true", 1, 0, "yes", [true], missing]
	label := sprintf("%s with is_member %v", [base, value])
}

# METADATA
# title: Pending, expired and revoked projects never query
# description: >-
#   A query is allowed only in a project whose status is exactly active:
#   pending (not yet approved), expired, revoked, or any other or missing
#   status is refused.
test_invariant_inactive_project_never_queries if {
	explain(violations(inactive_cases))
	count(violations(inactive_cases)) == 0
}

inactive_cases[label] := change_project(request, "status", status) if {
	some base, request in base_requests
	some status in ["pending", "expired", "revoked", "", "Active", "ACTIVE", " active", null, true, missing]
	label := sprintf("%s with status %v", [base, status])
}

# METADATA
# title: A project past its expiry date never queries, even if its status says active
# description: >-
#   When today is after the project's expires_at, a query is refused even
#   though the status is still active (the gateway may not have expired it
#   yet).
test_invariant_project_past_expiry_never_queries if {
	explain(violations(past_expiry_cases))
	count(violations(past_expiry_cases)) == 0
}

past_expiry_cases[label] := set_key(set_project(request, "expires_at", expires_at), "today", day) if {
	some base, request in base_requests
	some [expires_at, day] in [
		["2026-11-22", "2026-11-23"],
		["2027-06-30", "2027-07-01"],
		["2027-06-30", "2031-01-01"],
		["2025-12-31", "2026-01-01"],
	]
	label := sprintf("%s, expired %s, today %s", [base, expires_at, day])
}

# METADATA
# title: A project whose expiry cannot be told never queries
# description: >-
#   When today's date or the project's expiry date is missing or not a
#   YYYY-MM-DD date, the policy cannot tell whether the project expired, so
#   the query is refused (missing means deny).
test_invariant_unknown_expiry_never_queries if {
	explain(violations(unknown_expiry_cases))
	count(violations(unknown_expiry_cases)) == 0
}

unknown_expiry_cases[label] := change_project(request, "expires_at", value) if {
	some base, request in base_requests
	some value in [null, "", "30-06-2027", "2027-6-30", "soon", 20270630, missing]
	label := sprintf("%s with expires_at %v", [base, value])
}

unknown_expiry_cases[label] := set_key(request, "today", value) if {
	some base, request in base_requests
	some value in [null, "", "today", 20261123]
	label := sprintf("%s with today %v", [base, value])
}

unknown_expiry_cases[label] := object.remove(request, {"today"}) if {
	some base, request in base_requests
	label := sprintf("%s without today", [base])
}

# METADATA
# title: A query needs the approval of every data owner and of a privacy officer
# description: >-
#   A query is refused when the organisation owning one of its datasets is
#   not among the project's approved_orgs, or when no privacy officer has
#   approved the project (officer_approved exactly true).
test_invariant_query_needs_owner_and_officer_approval if {
	explain(violations(approval_cases))
	count(violations(approval_cases)) == 0
}

approval_cases[label] := change_project(request, "approved_orgs", orgs) if {
	some base, request in base_requests
	some [name, orgs] in [
		["no organisation", []],
		["only another organisation", ["kmar"]],
		["all but the owner of the last dataset", array.slice(request.project.approved_orgs, 0, count(request.project.approved_orgs) - 1)],
		["a string", request.datasets[0].org],
		["none recorded", missing],
	]
	label := sprintf("%s approved by %s", [base, name])
}

approval_cases[label] := change_project(request, "officer_approved", value) if {
	some base, request in base_requests
	some value in [false, null, "true", 1, missing]
	label := sprintf("%s with officer_approved %v", [base, value])
}

# METADATA
# title: A query never uses a dataset outside its project
# description: >-
#   Every dataset of a query must be part of the project (in_project
#   exactly true).
test_invariant_dataset_outside_project_never_queried if {
	explain(violations(outside_project_cases))
	count(violations(outside_project_cases)) == 0
}

outside_project_cases[label] := set_key(request, "datasets", array.concat(
	array.slice(request.datasets, 0, count(request.datasets) - 1),
	[set_key(request.datasets[count(request.datasets) - 1], "in_project", value)],
)) if {
	some base, request in base_requests
	some value in [false, null, "true"]
	label := sprintf("%s with in_project %v", [base, value])
}

# ---------------------------------------------------------------------------
# Roles

# METADATA
# title: Only analysts query
# description: >-
#   A query is refused to anyone whose role is not exactly analyst: admins,
#   stewards (even of the organisation that owns the data), privacy
#   officers (who review outputs, so they do not make them), and unknown or
#   missing roles.
test_invariant_only_analysts_query if {
	explain(violations(non_analyst_cases))
	count(violations(non_analyst_cases)) == 0
}

non_analyst_cases[label] := set_key(request, "user", user) if {
	some base, request in base_requests
	some user in [
		admin,
		object.union(admin, {"org": request.datasets[0].org}),
		{"username": "sven", "role": "steward", "org": request.datasets[0].org},
		{"username": "saar", "role": "steward", "org": "kmar"},
		object.union(officer, {"username": analyst.username}),
		object.union(analyst, {"role": "Analyst"}),
		object.union(analyst, {"role": null}),
		object.remove(analyst, {"role"}),
	]
	label := sprintf("%s by %s of %s with role %v", [base, user.username, user.org, object.get(user, "role", missing)])
}

# The privacy officers' actions, asked for with everything they could need.
oversight_actions := ["edit_policy", "read_audit", "review", "list_reviews"]

oversight_request(action, user) := {
	"action": action,
	"today": today,
	"user": user,
	"project": query_request([dataset("wpg-art22")], "research", "wpg-art22").project,
	"datasets": [dataset("wpg-art22")],
	"review": {"requested_by": "someone-else"},
}

# METADATA
# title: Only privacy officers edit policy, read the audit log and review
# description: >-
#   edit_policy, read_audit, review and list_reviews are refused to anyone
#   whose role is not exactly privacy_officer: analysts, stewards, admins,
#   unknown or missing roles.
test_invariant_oversight_only_for_privacy_officers if {
	explain(violations(oversight_cases))
	count(violations(oversight_cases)) == 0
}

oversight_cases[label] := oversight_request(action, user) if {
	some action in oversight_actions
	some user in [
		analyst,
		{"username": "sven", "role": "steward", "org": "politie"},
		admin,
		{"username": "eve", "role": "auditor", "org": "nsoc"},
		{"username": "eve", "role": "Privacy_Officer", "org": "nsoc"},
		{"username": "eve", "role": "privacy_officer ", "org": "nsoc"},
		{"username": "eve", "role": ["privacy_officer"], "org": "nsoc"},
		{"username": "eve", "role": null, "org": "nsoc"},
		{"username": "eve", "org": "nsoc"},
	]
	label := sprintf("%s by role %v", [action, object.get(user, "role", missing)])
}

oversight_cases[label] := object.remove(oversight_request(action, analyst), {"user"}) if {
	some action in oversight_actions
	label := sprintf("%s without a user", [action])
}

# ---------------------------------------------------------------------------
# Four eyes

# METADATA
# title: Nobody reviews the output of their own request
# description: >-
#   A privacy officer never reviews an output they asked for themselves;
#   and when the request does not say who asked for the output or who
#   reviews, the four-eyes check cannot be made, so the review is refused.
test_invariant_no_self_review if {
	explain(violations(self_review_cases))
	count(violations(self_review_cases)) == 0
}

review_request(user, review) := set_key(oversight_request("review", user), "review", review)

self_review_cases[label] := request if {
	some [label, request] in [
		["review of own output", review_request(officer, {"requested_by": officer.username})],
		["review of own output by the second officer", review_request(second_officer, {"requested_by": second_officer.username})],
		["review without requester", review_request(officer, {})],
		["review with null requester", review_request(officer, {"requested_by": null})],
		["review without review object", object.remove(oversight_request("review", officer), {"review"})],
		["review by an officer without username", review_request({"role": "privacy_officer", "org": "nsoc"}, {"requested_by": officer.username})],
	]
}

# METADATA
# title: Nobody approves a project they requested
# description: >-
#   A privacy officer never approves a project they requested themselves;
#   another privacy officer or a steward of a data owner must approve it.
test_invariant_no_self_approval if {
	explain(violations(self_approval_cases))
	count(violations(self_approval_cases)) == 0
}

approve_request(user, requested_by) := {
	"action": "approve_project",
	"today": today,
	"user": user,
	"project": object.union(
		query_request([dataset("wpg-art22")], "research", "wpg-art22").project,
		{"status": "pending", "requested_by": requested_by, "approved_orgs": [], "officer_approved": false},
	),
	"datasets": [dataset("wpg-art22")],
}

self_approval_cases[label] := approve_request(user, user.username) if {
	some user in [officer, second_officer]
	label := sprintf("approval by %s of the project they requested", [user.username])
}

# ---------------------------------------------------------------------------
# Query shape

# METADATA
# title: A query never groups by or filters on an identifier
# description: >-
#   Grouping by, or filtering on, a column whose role is identifier would
#   single out people, so such a query is always refused.
test_invariant_identifier_never_grouped_or_filtered if {
	explain(violations(identifier_cases))
	count(violations(identifier_cases)) == 0
}

identifier_cases[label] := set_query(request, part, columns) if {
	some base, request in base_requests
	some [part, columns] in [
		["group_by", [{"column": "person_id", "role": "identifier"}]],
		["group_by", [{"column": "region", "role": "category"}, {"column": "bsn", "role": "identifier"}]],
		["filters", [{"column": "bsn", "role": "identifier", "op": "eq"}]],
		["filters", [{"column": "year", "role": "date", "op": "eq"}, {"column": "person_id", "role": "identifier", "op": "in"}]],
	]
	label := sprintf("%s with %s on an identifier (%d columns)", [base, part, count(columns)])
}

# METADATA
# title: Values of identifiers and free text are never released
# description: >-
#   A sum, mean, median, minimum or maximum of an identifier or free-text
#   column is refused; only counting is allowed on them.
test_invariant_identifier_and_text_values_never_aggregated if {
	explain(violations(aggregate_cases))
	count(violations(aggregate_cases)) == 0
}

aggregate_cases[label] := set_query(request, "aggregates", [{"fn": fn, "column": "c", "role": role}]) if {
	some base, request in base_requests
	some fn in ["sum", "mean", "median", "min", "max"]
	some role in ["identifier", "text"]
	label := sprintf("%s with %s of a %s column", [base, fn, role])
}

# ---------------------------------------------------------------------------
# Legal bases

# METADATA
# title: Police data under wpg-art22 yields anonymised output only
# description: >-
#   An analyst's query that uses a wpg-art22 dataset is either refused or
#   allowed with obligations that demand at least 10 distinct entities per
#   released cell, as a whole number (article 22 WPG: results may hold no
#   personal data).
test_invariant_wpg_art22_output_anonymised if {
	explain(wpg_anonymity_violations)
	count(wpg_anonymity_violations) == 0
}

wpg_anonymity_violations contains label if {
	some label, request in wpg_cases
	some d in decisions(request)
	d.allow == true
	not min_entities_at_least(d, 10)
}

min_entities_at_least(d, n) if {
	m := d.obligations.min_entities
	is_number(m)
	round(m) == m
	m >= n
}

wpg_cases[label] := request if {
	some label, request in base_requests
	some ds in request.datasets
	ds.legal_basis == "wpg-art22"
}

wpg_cases[label] := set_query(request, part, value) if {
	some purpose in base_purposes("wpg-art22")
	request := query_request([dataset("wpg-art22")], purpose, "wpg-art22")
	some [part, value] in [
		["group_by", [{"column": "age_band", "role": "quasi_identifier"}, {"column": "month", "role": "date"}]],
		["group_by", []],
		["aggregates", [{"fn": "count_rows", "column": null, "role": null}]],
		["aggregates", [{"fn": "mean", "column": "amount", "role": "measure"}, {"fn": "max", "column": "amount", "role": "measure"}]],
	]
	label := sprintf("wpg-art22 query for %s with %s %v", [purpose, part, value])
}

wpg_cases[label] := query_request([dataset("wpg-art22"), dataset(other)], "research", basis) if {
	some other in (tested_bases - {"wpg-art22"})
	some basis in ["wpg-art22", other]
	label := sprintf("wpg-art22 joined with %s in a %s project", [other, basis])
}

# METADATA
# title: Police data under wpg-art22 never serves an investigation
# description: >-
#   wpg-art22 allows research and statistics only: a project whose purpose
#   is investigation never queries wpg-art22 data, whatever the catalogue
#   says.
test_invariant_wpg_art22_never_for_investigation if {
	explain(violations(wpg_investigation_cases))
	count(violations(wpg_investigation_cases)) == 0
}

wpg_investigation_cases[label] := query_request(datasets, "investigation", basis) if {
	some [label, datasets, basis] in [
		["wpg-art22 data for investigation", [dataset("wpg-art22")], "wpg-art22"],
		["wpg-art22 data for investigation in an avg-6-1e project", [dataset("wpg-art22")], "avg-6-1e"],
		["wpg-art22 joined with avg-6-1e data for investigation", [dataset("avg-6-1e"), dataset("wpg-art22")], "avg-6-1e"],
	]
}

# METADATA
# title: Tax data under awr-43c needs the exemption reference on the project
# description: >-
#   Tax data is shared only under an exemption from fiscal secrecy: a query
#   using awr-43c data is refused while the project does not record a
#   non-blank exemption_reference, whatever the catalogue says.
test_invariant_awr_43c_needs_exemption_reference if {
	explain(violations(awr_exemption_cases))
	count(violations(awr_exemption_cases)) == 0
}

awr_exemption_cases[label] := set_project(request, "fields", fields) if {
	some [name, datasets, basis] in [
		["awr-43c data", [dataset("awr-43c")], "awr-43c"],
		["awr-43c data joined with wpg-art22 data", [dataset("wpg-art22"), dataset("awr-43c")], "wpg-art22"],
	]
	some purpose in ["research", "statistics"]
	request := query_request(datasets, purpose, basis)
	some [kind, fields] in [
		["left out", object.remove(all_fields, {"exemption_reference"})],
		["null", object.union(all_fields, {"exemption_reference": null})],
		["blank", object.union(all_fields, {"exemption_reference": " "})],
	]
	label := sprintf("%s for %s with the exemption_reference %s", [name, purpose, kind])
}

# METADATA
# title: A dataset's legal basis must allow the project's purpose
# description: >-
#   Purpose binding: a query is refused when the legal basis of one of its
#   datasets does not list the project's purpose, or is not in the
#   catalogue at all.
test_invariant_purpose_binding if {
	explain(violations(purpose_cases))
	count(violations(purpose_cases)) == 0
}

purpose_cases[label] := query_request([dataset(basis)], purpose, basis) if {
	some basis in catalogue_bases
	some purpose in (purposes - base_purposes(basis))
	label := sprintf("%s data for %s, which the catalogue does not allow", [basis, purpose])
}

purpose_cases[label] := query_request([dataset("wpg-art22"), unknown], "research", "wpg-art22") if {
	some basis in ["convenant", "", null]
	unknown := object.union(dataset("wpg-art22"), {"id": "ds-unknown", "legal_basis": basis})
	not basis in catalogue_bases
	label := sprintf("a dataset under the unknown basis %v", [basis])
}

# METADATA
# title: A project lacking a field its legal bases require never queries
# description: >-
#   When a basis in the catalogue lists required_project_fields (such as the
#   exemption reference for tax data under awr-43c), a query using that
#   basis is refused while the project lacks a non-blank value for it.
test_invariant_required_project_fields_enforced if {
	explain(violations(required_field_cases))
	count(violations(required_field_cases)) == 0
}

required_field_cases[label] := set_project(request, "fields", fields) if {
	some base, request in base_requests
	some f in required_fields(request)
	some [name, fields] in [
		["blank", object.union(all_fields, {f: "  "})],
		["null", object.union(all_fields, {f: null})],
		["left out", object.remove(all_fields, {f})],
	]
	label := sprintf("%s with %s %s", [base, f, name])
}

required_fields(request) := {f |
	some basis in ({ds.legal_basis | some ds in request.datasets} | {request.project.legal_basis})
	some f in data.data.legal_bases[basis].required_project_fields
	is_string(f)
}

# ---------------------------------------------------------------------------
# Every decision

# Requests that are not what the gateway sends.
garbage := {
	"a string": "x",
	"an empty string": "",
	"a number": 42,
	"null": null,
	"true": true,
	"an empty list": [],
	"a list of objects": [{}],
	"an empty object": {},
	"no user": {"action": "read_audit", "today": today},
	"a user that is a string": {"action": "read_audit", "user": "fatima"},
	"no action": {"user": officer},
	"an unknown action": {"action": "delete_everything", "user": officer},
	"an action in the wrong case": {"action": "READ_AUDIT", "user": officer},
	"an action that is a list": {"action": ["read_audit"], "user": officer},
	"an unknown role": {"action": "read_audit", "user": {"username": "eve", "role": "superuser", "org": "nsoc"}},
	"a role that is a list": {"action": "query", "user": {"username": "eve", "role": ["analyst"], "org": "nsoc"}},
	"a query without project, datasets or query": {"action": "query", "today": today, "user": analyst},
	"a query whose project is a string": set_key(base_requests["query joining wpg-art22 and awr-43c data for research"], "project", "prj-7"),
	"a query whose datasets are a string": set_key(base_requests["query joining wpg-art22 and awr-43c data for research"], "datasets", "ds-wpg-art22"),
	"a query whose query is a string": set_key(base_requests["query joining wpg-art22 and awr-43c data for research"], "query", "SELECT *"),
	"a query with an unknown user role": set_key(base_requests["query joining wpg-art22 and awr-43c data for research"], "user", object.union(analyst, {"role": "analist"})),
	"a query without a user": object.remove(base_requests["query joining wpg-art22 and awr-43c data for research"], {"user"}),
}

# METADATA
# title: Broken requests are refused, and still get a decision
# description: >-
#   A missing input, a string, an empty object, an unknown action or role,
#   a missing user and other malformed requests always get a decision (the
#   policy never leaves it undefined) whose allow is exactly false.
test_invariant_garbage_denied_and_decided if {
	explain(garbage_violations)
	count(garbage_violations) == 0
}

garbage_violations contains label if {
	some label, request in garbage
	some d in decisions(request)
	not d.allow == false
}

garbage_violations contains "no input at all" if {
	some d in without_input
	not d.allow == false
}

# The requests every decision-wide invariant is checked on.
sample_requests := object.union_n([
	garbage,
	base_requests,
	oversight_cases,
	self_review_cases,
	self_approval_cases,
	{"approval by another officer": approve_request(second_officer, officer.username)},
	{label: request | some label, request in non_member_cases; contains(label, "false")},
	{label: request | some label, request in identifier_cases; contains(label, "group_by")},
])

sample_decisions contains [label, d] if {
	some label, request in sample_requests
	some d in decisions(request)
}

sample_decisions contains ["no input at all", d] if {
	some d in without_input
}

# METADATA
# title: Every decision has allow, reasons, obligations and policy_revision
# description: >-
#   The decision is always an object with a boolean allow, a list of
#   reasons, an object of obligations and a string policy_revision: the
#   four keys the gateway reads.
test_invariant_decision_has_four_keys if {
	explain(shape_violations)
	count(shape_violations) == 0
}

shape_violations contains label if {
	some [label, d] in sample_decisions
	not well_formed(d)
}

well_formed(d) if {
	is_boolean(d.allow)
	is_array(d.reasons)
	is_object(d.obligations)
	is_string(d.policy_revision)
}

# METADATA
# title: Obligations always demand at least one entity per cell
# description: >-
#   Every decision, allowed or not, carries obligations whose min_entities
#   is a whole number of at least 1.
test_invariant_obligations_min_entities_at_least_one if {
	explain(min_entities_violations)
	count(min_entities_violations) == 0
}

min_entities_violations contains label if {
	some [label, d] in sample_decisions
	not min_entities_at_least(d, 1)
}

# METADATA
# title: The decision names the revision the gateway loaded
# description: >-
#   When the gateway has pushed {"revision": ...} to data.policy_meta, every
#   decision's policy_revision is that revision, so the gateway can tell
#   that the answer came from the policy set it loaded (it refuses others).
test_invariant_decision_names_loaded_revision if {
	explain(revision_violations)
	count(revision_violations) == 0
}

revision_violations contains label if {
	some label, request in sample_requests
	not served(request).policy_revision == served_revision
}

revision_violations contains "no input at all" if {
	not served_without_input.policy_revision == served_revision
}

# ---------------------------------------------------------------------------
# The guard rails themselves

# A policy that allows everything, and one that refuses everything.
allow_everything := {
	"allow": true,
	"reasons": [],
	"obligations": {"min_entities": 10, "dominance_n": 2, "dominance_k": 85, "p_percent": 10, "rounding_base": 1, "review_required": false},
	"policy_revision": served_revision,
}

deny_everything := object.union(allow_everything, {"allow": false, "reasons": ["closed"]})

# The guard rails would refuse a policy set that allows everything: each
# safety invariant finds requests it wrongly allows.
test_guard_rails_refuse_a_policy_that_allows_everything if {
	count(violations(non_member_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(inactive_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(past_expiry_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(unknown_expiry_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(approval_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(outside_project_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(non_analyst_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(oversight_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(self_review_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(self_approval_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(identifier_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(aggregate_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(wpg_investigation_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(awr_exemption_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(violations(purpose_cases)) > 0 with data.sluis.authz.decision as allow_everything
	count(garbage_violations) > 0 with data.sluis.authz.decision as allow_everything
}

# ... and one that allows everything with too weak obligations, or answers
# with another shape.
test_guard_rails_refuse_weak_or_malformed_decisions if {
	weak := object.union(allow_everything, {"obligations": {"min_entities": 0}})
	count(wpg_anonymity_violations) > 0 with data.sluis.authz.decision as weak
	count(min_entities_violations) > 0 with data.sluis.authz.decision as weak
	count(shape_violations) > 0 with data.sluis.authz.decision as {"allow": false}
	count(revision_violations) > 0 with data.sluis.authz.decision as object.union(deny_everything, {"policy_revision": "unversioned"})
}

# The guard rails ask nothing a strict policy could not give: a policy
# that refuses everything, with a well-formed decision, keeps them all.
test_guard_rails_accept_a_policy_that_refuses_everything if {
	count(violations(non_member_cases)) == 0 with data.sluis.authz.decision as deny_everything
	count(violations(oversight_cases)) == 0 with data.sluis.authz.decision as deny_everything
	count(garbage_violations) == 0 with data.sluis.authz.decision as deny_everything
	count(shape_violations) == 0 with data.sluis.authz.decision as deny_everything
	count(min_entities_violations) == 0 with data.sluis.authz.decision as deny_everything
	count(revision_violations) == 0 with data.sluis.authz.decision as deny_everything
	count(wpg_anonymity_violations) == 0 with data.sluis.authz.decision as deny_everything
}
