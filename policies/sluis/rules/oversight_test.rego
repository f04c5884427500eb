package sluis.rules.oversight_test

import data.sluis.authz
import data.sluis.fixtures

review(user, requested_by) := {
	"action": "review", "today": "2026-11-23", "user": user,
	"project": fixtures.project, "datasets": [fixtures.police_dataset],
	"review": {"requested_by": requested_by},
}

test_other_privacy_officer_reviews if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as review(fixtures.officer, "anna")
}

test_privacy_officer_reviews_another_officers_output if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as review(fixtures.second_officer, "olga")
}

test_review_of_tax_output_keeps_review_obligation if {
	request := object.union(review(fixtures.officer, "anna"), {"datasets": [fixtures.police_dataset, fixtures.tax_dataset]})
	authz.decision == fixtures.allowed(fixtures.tax_obligations) with input as request
}

test_self_review_denied if {
	authz.decision == fixtures.denied([
		"self_review: you (olga) asked for this output yourself, so you cannot review it (four-eyes principle); another privacy officer must review it",
	]) with input as review(fixtures.officer, "olga")
}

test_analyst_cannot_review if {
	authz.decision == fixtures.denied([
		"role_not_permitted: action review is open only to privacy_officer; your role is analyst, so ask someone with one of those roles to do it",
	]) with input as review(fixtures.analyst, "pieter")
}

test_review_without_requester_denied if {
	authz.decision == fixtures.denied([
		"missing_review: the request holds no review; the gateway must send the output's requester",
		"requester_unknown: the request does not say who asked for the output under review, so the four-eyes check cannot be made; the gateway must send review.requested_by",
	]) with input as object.remove(review(fixtures.officer, "anna"), {"review"})
}

test_review_by_anonymous_user_denied if {
	authz.decision == fixtures.denied([
		"reviewer_unknown: the request does not say who you are, so the four-eyes check cannot be made; the gateway must send user.username",
	]) with input as review({"role": "privacy_officer", "org": "nsoc"}, "anna")
}
