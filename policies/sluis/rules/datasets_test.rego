package sluis.rules.datasets_test

import data.sluis.authz
import data.sluis.fixtures
import data.sluis.rules.datasets

new_police_dataset := {"id": null, "org": "politie", "legal_basis": "wpg-art22", "in_project": false}

upload(user, dataset) := {"action": "upload_dataset", "today": "2026-11-23", "user": user, "datasets": [dataset]}

view(user, ds) := {"action": "view_dataset", "today": "2026-11-23", "user": user, "datasets": ds}

# upload_dataset

test_steward_uploads_under_catalogue_basis if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as upload(fixtures.police_steward, new_police_dataset)
}

test_upload_of_tax_data_carries_review_obligation if {
	authz.decision == fixtures.allowed(fixtures.tax_obligations) with input as upload(fixtures.tax_steward, object.union(fixtures.tax_dataset, {"id": null}))
}

test_upload_unknown_legal_basis_denied if {
	authz.decision == fixtures.denied([
		sprintf("unknown_legal_basis: dataset (new dataset) declares legal basis convenant-nsoc, which is not in the legal-basis catalogue; choose one of %s, or ask a privacy officer to add the basis", [fixtures.known_bases]),
	]) with input as upload(fixtures.police_steward, object.union(new_police_dataset, {"legal_basis": "convenant-nsoc"}))
}

test_upload_without_legal_basis_denied if {
	authz.decision == fixtures.denied([
		sprintf("unknown_legal_basis: dataset (new dataset) declares legal basis (missing or malformed), which is not in the legal-basis catalogue; choose one of %s, or ask a privacy officer to add the basis", [fixtures.known_bases]),
	]) with input as upload(fixtures.police_steward, object.remove(new_police_dataset, {"legal_basis"}))
}

test_upload_without_dataset_denied if {
	authz.decision == fixtures.denied([
		"upload_without_dataset: the request describes no dataset to upload; the gateway must send the dataset being uploaded",
	]) with input as {"action": "upload_dataset", "user": fixtures.police_steward, "datasets": []}
}

test_upload_for_other_org_denied if {
	authz.decision == fixtures.denied([
		"upload_for_other_org: dataset (new dataset) is declared for another organisation than yours (douane); stewards upload only their own organisation's data",
	]) with input as upload(fixtures.customs_steward, new_police_dataset)
}

test_analyst_cannot_upload if {
	authz.decision == fixtures.denied([
		"role_not_permitted: action upload_dataset is open only to steward; your role is analyst, so ask someone with one of those roles to do it",
	]) with input as upload(fixtures.analyst, new_police_dataset)
}

test_upload_reasons_collected_per_dataset if {
	count(datasets.upload) == 2 with input as {
		"action": "upload_dataset", "user": fixtures.police_steward,
		"datasets": [
			{"id": "a", "org": "politie", "legal_basis": "x"},
			{"id": "b", "org": "politie", "legal_basis": "y"},
		],
	}
}

# view_dataset

test_analyst_views_any_dataset if {
	authz.decision == fixtures.allowed(fixtures.tax_obligations) with input as view(fixtures.analyst, [fixtures.police_dataset, fixtures.tax_dataset])
}

test_privacy_officer_views_any_dataset if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as view(fixtures.officer, [fixtures.police_dataset])
}

test_steward_views_own_org_dataset if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as view(fixtures.police_steward, [fixtures.police_dataset])
}

test_steward_lists_with_no_datasets if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as view(fixtures.police_steward, [])
}

test_steward_cannot_view_other_org_dataset if {
	authz.decision == fixtures.denied_with(
		["other_org_dataset: dataset d2 belongs to another organisation; stewards see only datasets of their own organisation (politie)"],
		fixtures.tax_obligations,
	) with input as view(fixtures.police_steward, [fixtures.police_dataset, fixtures.tax_dataset])
}

test_admin_cannot_view_datasets if {
	authz.decision == fixtures.denied([
		"role_not_permitted: action view_dataset is open only to analyst, privacy_officer, steward; your role is admin, so ask someone with one of those roles to do it",
	]) with input as view(fixtures.admin, [fixtures.police_dataset])
}
