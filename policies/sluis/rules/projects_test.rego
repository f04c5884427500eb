package sluis.rules.projects_test

import data.sluis.authz
import data.sluis.fixtures

new_project := object.union(fixtures.pending_project, {"id": null, "is_member": false})

create(user, project) := {
	"action": "create_project", "today": "2026-11-23", "user": user,
	"project": project, "datasets": [fixtures.police_dataset],
}

approve(user, project, ds) := {
	"action": "approve_project", "today": "2026-11-23", "user": user,
	"project": project, "datasets": ds,
}

# create_project

test_analyst_creates_project if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as create(fixtures.analyst, new_project)
}

test_privacy_officer_creates_project if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as create(fixtures.officer, new_project)
}

# Purpose binding per dataset is checked when a query runs, not here.
test_create_does_not_check_dataset_purposes if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as create(fixtures.analyst, object.union(new_project, {"purpose": "investigation"}))
}

test_create_unknown_basis_and_purpose_denied if {
	authz.decision == fixtures.denied([
		sprintf("unknown_legal_basis: project Fenomeenbeeld names legal basis convenant, which is not in the legal-basis catalogue; choose one of %s", [fixtures.known_bases]),
		"unknown_purpose: project Fenomeenbeeld has purpose profiling; the purpose must be one of investigation, research, statistics, supervision",
	]) with input as create(fixtures.analyst, object.union(new_project, {"legal_basis": "convenant", "purpose": "profiling"}))
}

test_steward_cannot_create_project if {
	authz.decision == fixtures.denied([
		"role_not_permitted: action create_project is open only to analyst, privacy_officer; your role is steward, so ask someone with one of those roles to do it",
	]) with input as create(fixtures.police_steward, new_project)
}

# The project's own legal basis may require fields, such as the reference
# of the exemption from fiscal secrecy for awr-43c.
test_create_under_tax_basis_needs_exemption_reference if {
	tax_project := object.union(new_project, {"legal_basis": "awr-43c"})
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as create(fixtures.analyst, tax_project)
	authz.decision == fixtures.denied([
		"missing_project_field: legal basis awr-43c requires project Fenomeenbeeld to record its exemption_reference, which is missing or empty; record the exemption_reference on the project and create it again",
	]) with input as create(fixtures.analyst, object.union(tax_project, {"fields": {"exemption_reference": ""}}))
}

# Only the project's own basis counts at creation; the datasets' bases are
# checked when a query runs.
test_create_does_not_check_dataset_fields if {
	request := object.union(create(fixtures.analyst, object.union(new_project, {"fields": {"exemption_reference": null}})), {"datasets": [fixtures.tax_dataset]})
	authz.decision == fixtures.allowed(fixtures.tax_obligations) with input as request
}

# approve_project

test_privacy_officer_approves_pending_project if {
	authz.decision == fixtures.allowed(fixtures.tax_obligations) with input as approve(
		fixtures.officer, fixtures.pending_project,
		[fixtures.police_dataset, fixtures.tax_dataset],
	)
}

test_steward_approves_project_using_own_org_data if {
	authz.decision == fixtures.allowed(fixtures.tax_obligations) with input as approve(
		fixtures.tax_steward, fixtures.pending_project,
		[fixtures.police_dataset, fixtures.tax_dataset],
	)
}

test_steward_of_uninvolved_org_cannot_approve if {
	authz.decision == fixtures.denied_with(
		["approver_org_not_involved: your organisation (douane) owns none of the datasets of project p1; stewards approve only projects that use their own organisation's data, so ask a privacy officer or a steward of an organisation whose data the project uses"],
		fixtures.tax_obligations,
	) with input as approve(
		fixtures.customs_steward, fixtures.pending_project,
		[fixtures.police_dataset, fixtures.tax_dataset],
	)
}

test_only_pending_project_can_be_approved if {
	every status in ["active", "expired", "revoked"] {
		authz.decision == fixtures.denied([sprintf(
			"project_not_pending: project p1 has status %s; only a pending project can be approved",
			[status],
		)]) with input as approve(fixtures.officer, object.union(fixtures.project, {"status": status}), [fixtures.police_dataset])
	}
}

test_analyst_cannot_approve if {
	authz.decision == fixtures.denied([
		"role_not_permitted: action approve_project is open only to privacy_officer, steward; your role is analyst, so ask someone with one of those roles to do it",
	]) with input as approve(fixtures.analyst, object.union(fixtures.pending_project, {"requested_by": "pieter"}), [fixtures.police_dataset])
}

# Four eyes: whoever requested a project cannot approve it.
test_privacy_officer_cannot_approve_own_request if {
	authz.decision == fixtures.denied_with(
		["self_approval: you (olga) requested project p1 yourself, so you cannot approve it (four-eyes principle); another privacy officer or a steward of an organisation whose data it uses must approve it"],
		fixtures.tax_obligations,
	) with input as approve(
		fixtures.officer, object.union(fixtures.pending_project, {"requested_by": "olga"}),
		[fixtures.police_dataset, fixtures.tax_dataset],
	)
}

test_another_privacy_officer_approves if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as approve(
		fixtures.second_officer, object.union(fixtures.pending_project, {"requested_by": "olga"}),
		[fixtures.police_dataset],
	)
}

test_approval_without_requester_or_approver_denied if {
	authz.decision == fixtures.denied([
		"approver_unknown: the request does not say who you are, so the four-eyes check cannot be made; the gateway must send user.username",
		"requester_unknown: the request does not say who requested the project, so the four-eyes check cannot be made; the gateway must send project.requested_by",
	]) with input as approve(
		{"role": "privacy_officer", "org": "nsoc"},
		object.remove(fixtures.pending_project, {"requested_by"}),
		[fixtures.police_dataset],
	)
}
