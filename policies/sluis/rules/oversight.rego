# METADATA
# title: Oversight rules
# description: >-
#   Reviewing held outputs, reading the audit log and editing policy are
#   privacy-officer work (the role is checked in sluis.authz). A review
#   needs four eyes: nobody reviews an output of their own request.
package sluis.rules.oversight

import data.sluis.lib

requested_by := lib.field(lib.field(input, "review"), "requested_by")

# Reasons to refuse review.
review contains msg if {
	is_string(requested_by)
	lib.username == requested_by
	msg := sprintf(
		"self_review: you (%s) asked for this output yourself, so you cannot review it (four-eyes principle); another privacy officer must review it",
		[lib.label(lib.username)],
	)
}

review contains "requester_unknown: the request does not say who asked for the output under review, so the four-eyes check cannot be made; the gateway must send review.requested_by" if {
	not is_string(requested_by)
}

review contains "reviewer_unknown: the request does not say who you are, so the four-eyes check cannot be made; the gateway must send user.username" if {
	not is_string(lib.username)
}
