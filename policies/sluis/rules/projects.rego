# METADATA
# title: Project rules
# description: >-
#   Creating and approving lab projects. A project names its purpose and
#   the legal basis under which the lab processes. Whether each dataset's
#   own basis allows that purpose is checked when a query runs, not here.
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
