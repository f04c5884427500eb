# METADATA
# title: Project rules
# description: >-
#   Creating and approving lab projects. A project names its purpose and
#   the legal basis under which the lab processes, and records the fields
#   that basis requires (such as the reference of a secrecy exemption).
#   Whether each dataset's own basis allows the purpose, and whether the
#   project records the fields the datasets' bases require, is checked when
#   a query runs. Approval needs four eyes: nobody approves a project they
#   requested themselves.
package sluis.rules.projects

import data.sluis.catalogue
import data.sluis.lib

# Reasons to refuse create_project.
create contains msg if {
	not catalogue.exists(lib.field(lib.project, "legal_basis"))
	msg := sprintf(
		"unknown_legal_basis: project %s names legal basis %s, which is not in the legal-basis catalogue; choose one of %s",
		[lib.label(lib.field(lib.project, "name")), lib.label(lib.field(lib.project, "legal_basis")), lib.labels(object.keys(catalogue.bases))],
	)
}

create contains msg if {
	not lib.field(lib.project, "purpose") in lib.purposes
	msg := sprintf(
		"unknown_purpose: project %s has purpose %s; the purpose must be one of %s",
		[lib.label(lib.field(lib.project, "name")), lib.label(lib.field(lib.project, "purpose")), lib.labels(lib.purposes)],
	)
}

create contains msg if {
	basis := lib.project.legal_basis
	catalogue.exists(basis)
	some f in catalogue.required_fields(basis)
	not lib.filled(lib.project, f)
	msg := sprintf(
		"missing_project_field: legal basis %s requires project %s to record its %s, which is missing or empty; record the %s on the project and create it again",
		[basis, lib.label(lib.field(lib.project, "name")), lib.label(f), lib.label(f)],
	)
}

# Reasons to refuse approve_project.
approve contains msg if {
	not lib.project.status == "pending"
	msg := sprintf(
		"project_not_pending: project %s has status %s; only a pending project can be approved",
		[lib.label(lib.field(lib.project, "id")), lib.label(lib.field(lib.project, "status"))],
	)
}

approve contains msg if {
	lib.role == "steward"
	not owns_a_dataset
	msg := sprintf(
		"approver_org_not_involved: your organisation (%s) owns none of the datasets of project %s; stewards approve only projects that use their own organisation's data, so ask a privacy officer or a steward of an organisation whose data the project uses",
		[lib.label(lib.org), lib.label(lib.field(lib.project, "id"))],
	)
}

owns_a_dataset if {
	some ds in lib.datasets
	is_string(ds.org)
	ds.org == lib.org
}

# Four eyes: whoever requested the project cannot approve it.
approve contains msg if {
	is_string(lib.username)
	lib.project.requested_by == lib.username
	msg := sprintf(
		"self_approval: you (%s) requested project %s yourself, so you cannot approve it (four-eyes principle); another privacy officer or a steward of an organisation whose data it uses must approve it",
		[lib.label(lib.username), lib.label(lib.field(lib.project, "id"))],
	)
}

approve contains "requester_unknown: the request does not say who requested the project, so the four-eyes check cannot be made; the gateway must send project.requested_by" if {
	not is_string(lib.field(lib.project, "requested_by"))
}

approve contains "approver_unknown: the request does not say who you are, so the four-eyes check cannot be made; the gateway must send user.username" if {
	not is_string(lib.username)
}
