package sluis.rules.query_test

import data.sluis.authz
import data.sluis.fixtures
import data.sluis.rules.query

# request(change) is the allowed joined query with change merged in.
request(change) := object.union(fixtures.query_request, change)

police_request(change) := object.union(fixtures.police_query_request, change)

with_query(change) := police_request({"query": object.union(fixtures.police_query, change)})

# replace(obj, key, value) sets obj[key] to value, dropping what was there
# (object.union would merge nested objects instead).
replace(obj, key, value) := object.union(object.remove(obj, {key}), {key: value})

# Allowed

test_member_queries_active_project if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as fixtures.police_query_request
}

# Obligations merge to the strictest: tax data (awr-43c) holds the output
# for review even though the police data (wpg-art22) alone would not.
test_joined_police_and_tax_query_is_held_for_review if {
	authz.decision == fixtures.allowed(fixtures.tax_obligations) with input as fixtures.query_request
}

test_query_on_expiry_day_allowed if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as police_request({"today": "2027-06-30"})
}

test_statistics_purpose_allowed if {
	authz.decision == fixtures.allowed(fixtures.tax_obligations) with input as request({"project": {"purpose": "statistics"}})
}

test_counting_text_and_grouping_quasi_identifiers_allowed if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as with_query({
		"group_by": [{"column": "age_band", "role": "quasi_identifier"}, {"column": "month", "role": "date"}],
		"filters": [{"column": "amount", "role": "measure", "op": "gt"}],
		"aggregates": [{"fn": "count", "column": "notes", "role": "text"}, {"fn": "count_rows", "column": null, "role": null}],
	})
}

# Denied: the project

test_non_member_denied if {
	authz.decision == fixtures.denied([
		"not_member: you are not a member of project p1; ask the project owner to add you",
	]) with input as police_request({"project": {"is_member": false}})
}

test_project_not_active_denied if {
	every status in ["pending", "expired", "revoked"] {
		authz.decision == fixtures.denied([sprintf(
			"project_not_active: project p1 has status %s; a query needs an active project: one approved by a privacy officer and the stewards of its datasets, and not expired or revoked",
			[status],
		)]) with input as police_request({"project": {"status": status}})
	}
}

test_project_past_expiry_date_denied if {
	authz.decision == fixtures.denied([
		"project_expired: project p1 expired on 2027-06-30; ask a privacy officer to extend it",
	]) with input as police_request({"today": "2027-07-01"})
}

test_project_without_expiry_date_denied if {
	authz.decision == fixtures.denied([
		"expiry_unknown: cannot tell whether project p1 has expired, because today's date or the project's expiry date is missing or not in YYYY-MM-DD form; the gateway must send both",
	]) with input as police_request({"project": {"expires_at": null}})
}

test_request_without_today_denied if {
	authz.decision == fixtures.denied([
		"expiry_unknown: cannot tell whether project p1 has expired, because today's date or the project's expiry date is missing or not in YYYY-MM-DD form; the gateway must send both",
	]) with input as object.remove(fixtures.police_query_request, {"today"})
}

# Denied: the datasets

test_dataset_outside_project_denied if {
	authz.decision == fixtures.denied_with(
		["dataset_not_in_project: dataset d2 is not part of project p1; ask for the project to be extended with it (its steward must approve)"],
		fixtures.tax_obligations,
	) with input as request({"datasets": [fixtures.police_dataset, object.union(fixtures.tax_dataset, {"in_project": false})]})
}

# The contract's example: police data under wpg-art22 may not serve an
# investigation (purpose binding).
test_wpg_art22_for_investigation_denied if {
	authz.decision == fixtures.denied([
		"purpose_not_allowed: dataset d1 is shared under wpg-art22, which allows the purposes research, statistics but not investigation (purpose binding); use it only in a project with an allowed purpose",
	]) with input as police_request({"project": {"purpose": "investigation"}})
}

test_each_dataset_checked_for_purpose if {
	authz.decision == fixtures.denied_with(
		[
			"purpose_not_allowed: dataset d1 is shared under wpg-art22, which allows the purposes research, statistics but not supervision (purpose binding); use it only in a project with an allowed purpose",
			"purpose_not_allowed: dataset d2 is shared under awr-43c, which allows the purposes research, statistics but not supervision (purpose binding); use it only in a project with an allowed purpose",
		],
		fixtures.tax_obligations,
	) with input as request({"project": {"purpose": "supervision"}})
}

test_supervision_allowed_under_avg_6_1e if {
	general := {"id": "d3", "org": "gemeente", "legal_basis": "avg-6-1e", "in_project": true}
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as police_request({
		"project": {"purpose": "supervision", "approved_orgs": ["gemeente"]},
		"datasets": [general],
		"query": {"dataset": "d3"},
	})
}

test_dataset_with_unknown_basis_denied if {
	authz.decision == fixtures.denied([
		"unknown_legal_basis: dataset d1 declares legal basis convenant, which is not in the legal-basis catalogue; its steward must declare a basis from the catalogue",
	]) with input as police_request({"datasets": [object.union(fixtures.police_dataset, {"legal_basis": "convenant"})]})
}

test_dataset_not_described_denied if {
	authz.decision == fixtures.denied([
		"dataset_not_described: the query uses dataset d2, but the gateway did not send its legal basis and project membership; the gateway must describe every dataset a query uses",
	]) with input as request({"datasets": [fixtures.police_dataset]})
}

# Denied: required project fields (required_project_fields in the catalogue)

# replace_fields(fields) is the joined police and tax query with the
# project's fields replaced by fields.
replace_fields(fields) := replace(fixtures.query_request, "project", replace(fixtures.project, "fields", fields))

missing_exemption := "missing_project_field: legal basis awr-43c requires project p1 to record its exemption_reference, which is missing or empty; record the exemption_reference on the project (the project owner or a privacy officer can add it) and query again"

# The contract: tax data needs the reference of the exemption from fiscal
# secrecy on the project.
test_tax_data_needs_exemption_reference if {
	every fields in [
		{"exemption_reference": null, "dpia_reference": null},
		{"exemption_reference": "", "dpia_reference": "DPIA-1"},
		{"exemption_reference": "   ", "dpia_reference": null},
		{"exemption_reference": 17, "dpia_reference": null},
		{},
		null,
		"ontheffing-2026-17",
	] {
		authz.decision == fixtures.denied_with([missing_exemption], fixtures.tax_obligations) with input as replace_fields(fields)
	}
}

test_project_without_fields_object_denied if {
	authz.decision == fixtures.denied_with([missing_exemption], fixtures.tax_obligations) with input as replace(fixtures.query_request, "project", object.remove(fixtures.project, {"fields"}))
}

# Police data alone (wpg-art22) requires no field.
test_police_data_needs_no_project_field if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as police_request({"project": {"fields": {"exemption_reference": null, "dpia_reference": null}}})
}

# The project's own legal basis counts too, even when no dataset uses it;
# each basis is named once, however many datasets use it.
test_project_basis_required_fields_checked if {
	authz.decision == fixtures.denied([
		"missing_project_field: legal basis avg-6-1e requires project p1 to record its dpia_reference, which is missing or empty; record the dpia_reference on the project (the project owner or a privacy officer can add it) and query again",
	]) with input as police_request({"project": {"legal_basis": "avg-6-1e"}})
		with data.data.legal_bases["avg-6-1e"].required_project_fields as ["dpia_reference"]
}

test_every_missing_field_of_every_basis_reported if {
	reasons := {r | some r in authz.decision.reasons} with input as replace_fields({"exemption_reference": null, "dpia_reference": null})
		with data.data.legal_bases["wpg-art22"].required_project_fields as ["dpia_reference"]
	reasons == {
		missing_exemption,
		"missing_project_field: legal basis wpg-art22 requires project p1 to record its dpia_reference, which is missing or empty; record the dpia_reference on the project (the project owner or a privacy officer can add it) and query again",
	}
}

# A field the catalogue names that the gateway does not know yet is read
# the same way as the known ones.
test_unknown_field_keys_count_as_fields if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as police_request({"project": {"fields": {"ethics_reference": "METC-2026-4"}}})
		with data.data.legal_bases["wpg-art22"].required_project_fields as ["ethics_reference"]
}

# Denied: approval by the data owners and a privacy officer

test_owner_not_approved_denied if {
	authz.decision == fixtures.denied_with(
		["owner_not_approved: organisation belastingdienst, which owns dataset d2, has not approved project p1; a steward of belastingdienst must approve the project before its data is queried"],
		fixtures.tax_obligations,
	) with input as request({"project": {"approved_orgs": ["politie"]}})
}

test_officer_not_approved_denied if {
	every approved in [false, null, "true", 1] {
		authz.decision == fixtures.denied([
			"owner_not_approved: no privacy officer has approved project p1; a privacy officer must approve the project before any data is queried",
		]) with input as police_request({"project": {"officer_approved": approved}})
	}
}

test_approvals_missing_or_malformed_denied if {
	every project in [
		object.remove(fixtures.project, {"approved_orgs", "officer_approved"}),
		object.union(fixtures.project, {"approved_orgs": "politie"}),
		object.union(fixtures.project, {"approved_orgs": [["politie"]]}),
	] {
		decision := authz.decision with input as replace(fixtures.police_query_request, "project", project)
		decision.allow == false
		some reason in decision.reasons
		startswith(reason, "owner_not_approved: ")
	}
}

test_dataset_without_org_not_approved if {
	authz.decision == fixtures.denied([
		"owner_not_approved: organisation (missing or malformed), which owns dataset d1, has not approved project p1; a steward of (missing or malformed) must approve the project before its data is queried",
	]) with input as police_request({"datasets": [object.remove(fixtures.police_dataset, {"org"})]})
}

# Denied: the query

test_missing_query_denied if {
	authz.decision == fixtures.denied([
		"missing_query: the request holds no query; the gateway must send the query spec",
	]) with input as object.remove(fixtures.police_query_request, {"query"})
}

test_query_without_dataset_denied if {
	authz.decision == fixtures.denied([
		"query_without_dataset: the query names no dataset; name the dataset to query",
	]) with input as replace(fixtures.police_query_request, "query", object.remove(fixtures.police_query, {"dataset"}))
}

test_group_by_identifier_denied if {
	authz.decision == fixtures.denied([
		"identifier_group_by: the query groups by column person_id, which is an identifier; group by a category, date or quasi-identifier column instead",
	]) with input as with_query({"group_by": [{"column": "region", "role": "category"}, {"column": "person_id", "role": "identifier"}]})
}

test_filter_on_identifier_denied if {
	authz.decision == fixtures.denied([
		"identifier_filter: the query filters on column person_id, which is an identifier and would single out entities; filter on a category, date or measure column instead",
	]) with input as with_query({"filters": [{"column": "person_id", "role": "identifier", "op": "in"}]})
}

test_sum_of_text_denied if {
	authz.decision == fixtures.denied([
		"aggregate_on_text: aggregate max is on column notes, which is free text; only count and count_rows may be used on text columns",
	]) with input as with_query({"aggregates": [{"fn": "max", "column": "notes", "role": "text"}]})
}

test_min_of_identifier_denied if {
	authz.decision == fixtures.denied([
		"aggregate_on_identifier: aggregate min is on column person_id, which is an identifier and would release identifier values; only count and count_rows may be used on identifiers",
	]) with input as with_query({"aggregates": [{"fn": "min", "column": "person_id", "role": "identifier"}]})
}

test_unknown_aggregate_denied if {
	authz.decision == fixtures.denied([
		"unknown_aggregate: aggregate list is not supported; use one of count, count_rows, max, mean, median, min, sum",
	]) with input as with_query({"aggregates": [{"fn": "list", "column": "amount", "role": "measure"}]})
}

test_unknown_column_roles_denied if {
	authz.decision == fixtures.denied([
		"unknown_column_role: aggregate sum is on column amount, which has no known role; name a column whose role is declared",
		"unknown_column_role: group_by column region has no known role; the dataset's steward must declare it as one of category, date, identifier, measure, quasi_identifier, text",
	]) with input as with_query({
		"group_by": [{"column": "region"}],
		"aggregates": [{"fn": "sum", "column": "amount", "role": null}],
	})
}

test_join_not_on_entity_denied if {
	authz.decision == fixtures.denied_with(
		["join_not_on_entity: the join with dataset d2 is on column postcode, which is not an entity column; join only on a declared entity column so that entities are counted once"],
		fixtures.tax_obligations,
	) with input as request({"query": {"joins": [{"dataset": "d2", "on": "postcode", "on_role": "quasi_identifier", "on_is_entity": false}]}})
}

test_analyst_role_needed_for_query if {
	authz.decision == fixtures.denied([
		"role_not_permitted: action query is open only to analyst; your role is privacy_officer, so ask someone with one of those roles to do it",
	]) with input as police_request({"user": fixtures.officer})
}

# Every violation gives its own reason, not just the first.
test_all_violations_reported if {
	authz.decision == fixtures.denied_with(
		[
			"dataset_not_in_project: dataset d2 is not part of project p1; ask for the project to be extended with it (its steward must approve)",
			"identifier_filter: the query filters on column bsn, which is an identifier and would single out entities; filter on a category, date or measure column instead",
			"identifier_group_by: the query groups by column person_id, which is an identifier; group by a category, date or quasi-identifier column instead",
			"not_member: you are not a member of project p1; ask the project owner to add you",
			"project_not_active: project p1 has status pending; a query needs an active project: one approved by a privacy officer and the stewards of its datasets, and not expired or revoked",
			"purpose_not_allowed: dataset d1 is shared under wpg-art22, which allows the purposes research, statistics but not investigation (purpose binding); use it only in a project with an allowed purpose",
			"purpose_not_allowed: dataset d2 is shared under awr-43c, which allows the purposes research, statistics but not investigation (purpose binding); use it only in a project with an allowed purpose",
		],
		fixtures.tax_obligations,
	) with input as request({
		"project": {"is_member": false, "status": "pending", "purpose": "investigation"},
		"datasets": [fixtures.police_dataset, object.union(fixtures.tax_dataset, {"in_project": false})],
		"query": {
			"group_by": [{"column": "person_id", "role": "identifier"}],
			"filters": [{"column": "bsn", "role": "identifier", "op": "eq"}],
		},
	})
}

# Removing any field the rules depend on denies: missing means deny.
test_missing_fields_deny if {
	every key in ["is_member", "status", "expires_at", "purpose", "approved_orgs", "officer_approved"] {
		decision := authz.decision with input as replace(fixtures.police_query_request, "project", object.remove(fixtures.project, {key}))
		decision.allow == false
	}
	every key in ["id", "legal_basis", "in_project"] {
		decision := authz.decision with input as replace(fixtures.police_query_request, "datasets", [object.remove(fixtures.police_dataset, {key})])
		decision.allow == false
	}
	every key in ["user", "project", "datasets", "query", "today"] {
		decision := authz.decision with input as object.remove(fixtures.police_query_request, {key})
		decision.allow == false
	}
	decision := authz.decision with input as replace(fixtures.query_request, "project", object.remove(fixtures.project, {"fields"}))
	decision.allow == false
}

test_non_object_query_parts_get_reasons if {
	reasons := query.deny with input as with_query({
		"group_by": ["region"],
		"filters": [7],
		"joins": ["d2"],
		"aggregates": ["sum"],
	})
	count(reasons) == 4
}
