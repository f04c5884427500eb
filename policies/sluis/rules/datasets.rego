# METADATA
# title: Dataset rules
# description: >-
#   Who may upload a dataset and who may see a dataset's metadata.
#   Stewards upload for their own organisation under a legal basis from
#   the catalogue; stewards see only their own organisation's datasets.
package sluis.rules.datasets

import data.sluis.catalogue
import data.sluis.lib

# Reasons to refuse upload_dataset.
upload contains "upload_without_dataset: the request describes no dataset to upload; the gateway must send the dataset being uploaded" if {
	count(lib.datasets) == 0
}

upload contains msg if {
	some ds in lib.datasets
	not catalogue.exists(lib.field(ds, "legal_basis"))
	msg := sprintf(
		"unknown_legal_basis: dataset %s declares legal basis %s, which is not in the legal-basis catalogue; choose one of %s, or ask a privacy officer to add the basis",
		[lib.dataset_label(ds), lib.label(lib.field(ds, "legal_basis")), lib.labels(object.keys(catalogue.bases))],
	)
}

upload contains msg if {
	some ds in lib.datasets
	is_string(ds.org)
	ds.org != lib.org
	msg := sprintf(
		"upload_for_other_org: dataset %s is declared for another organisation than yours (%s); stewards upload only their own organisation's data",
		[lib.dataset_label(ds), lib.label(lib.org)],
	)
}

# Reasons to refuse view_dataset (admins are refused by role in authz).
view contains msg if {
	lib.role == "steward"
	some ds in lib.datasets
	not ds.org == lib.org
	msg := sprintf(
		"other_org_dataset: dataset %s belongs to another organisation; stewards see only datasets of their own organisation (%s)",
		[lib.dataset_label(ds), lib.label(lib.org)],
	)
}
