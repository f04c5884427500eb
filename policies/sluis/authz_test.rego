package sluis.authz_test

import data.sluis.authz
import data.sluis.fixtures

# The gateway's health check reads the decision for an empty request.
test_decision_defined_for_empty_input if {
	authz.decision == fixtures.denied([
		"unknown_action: action (missing or malformed) is not known to the policy; the gateway can ask only for approve_project, create_project, edit_policy, list_reviews, query, read_audit, review, upload_dataset, view_dataset",
		"unknown_role: your role (missing or malformed) is not one of admin, analyst, privacy_officer, steward; ask an admin to give you a valid role",
	]) with input as {}
}

test_decision_defined_and_denied_for_garbage if {
	garbage := [
		"x", null, [], 42, true,
		{"action": 1, "user": "anna"},
		{"action": "query", "user": {"role": ["analyst"]}},
		{"action": ["read_audit"], "user": {"role": "privacy_officer"}},
		{"action": "read_audit", "user": {"role": "privacy_officer"}, "datasets": "d1"},
		{"action": "read_audit", "user": {"role": "privacy_officer"}, "datasets": [1]},
		{"action": "query", "user": {"role": "analyst"}, "project": "p1", "query": {}},
		{"action": "upload_dataset", "user": {"role": "steward"}, "datasets": [{}]},
		{"action": "review", "user": {"role": "privacy_officer"}, "review": {}},
		{"action": "approve_project", "user": {"role": "privacy_officer"}, "project": []},
	]
	every request in garbage {
		decision := authz.decision with input as request
		decision.allow == false
		count(decision.reasons) > 0
		decision.obligations == fixtures.default_obligations
		decision.policy_revision == fixtures.revision
	}
}

test_unknown_action_denied if {
	authz.decision == fixtures.denied([
		"unknown_action: action delete_dataset is not known to the policy; the gateway can ask only for approve_project, create_project, edit_policy, list_reviews, query, read_audit, review, upload_dataset, view_dataset",
	]) with input as {"action": "delete_dataset", "user": fixtures.officer}
}

test_unknown_role_denied if {
	authz.decision == fixtures.denied([
		"unknown_role: your role superuser is not one of admin, analyst, privacy_officer, steward; ask an admin to give you a valid role",
	]) with input as {"action": "read_audit", "user": {"username": "eve", "role": "superuser", "org": "nsoc"}}
}

test_reasons_never_echo_long_or_odd_values if {
	decision := authz.decision with input as {"action": "read_audit", "user": {"role": "1234 Main St;\nDROP"}}
	decision.reasons == ["unknown_role: your role (missing or malformed) is not one of admin, analyst, privacy_officer, steward; ask an admin to give you a valid role"]
}

test_admin_is_denied_every_action if {
	every action in data.sluis.lib.actions {
		decision := authz.decision with input as {"action": action, "user": fixtures.admin}
		decision.allow == false
		some reason in decision.reasons
		startswith(reason, "role_not_permitted: ")
	}
}

test_role_not_permitted_names_the_needed_role if {
	authz.decision == fixtures.denied([
		"role_not_permitted: action read_audit is open only to privacy_officer; your role is analyst, so ask someone with one of those roles to do it",
	]) with input as {"action": "read_audit", "user": fixtures.analyst}
}

test_read_audit_allowed_for_privacy_officer if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as {
		"action": "read_audit", "today": "2026-11-23",
		"user": fixtures.officer, "datasets": [],
	}
}

test_edit_policy_allowed_for_privacy_officer if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as {
		"action": "edit_policy", "today": "2026-11-23",
		"user": fixtures.officer, "datasets": [],
	}
}

test_edit_policy_denied_for_steward if {
	authz.decision == fixtures.denied([
		"role_not_permitted: action edit_policy is open only to privacy_officer; your role is steward, so ask someone with one of those roles to do it",
	]) with input as {"action": "edit_policy", "user": fixtures.police_steward, "datasets": []}
}

test_null_datasets_mean_none if {
	authz.decision == fixtures.allowed(fixtures.default_obligations) with input as {
		"action": "read_audit",
		"user": fixtures.officer, "datasets": null,
	}
}

test_malformed_datasets_denied if {
	authz.decision == fixtures.denied([
		"malformed_datasets: the request's datasets must be a list of objects; the gateway sent something else",
	]) with input as {"action": "read_audit", "user": fixtures.officer, "datasets": ["d1"]}
}

test_missing_project_denied if {
	authz.decision == fixtures.denied([
		"missing_project: action approve_project needs the project, but the request holds none; the gateway must send it",
		"project_not_pending: project (missing or malformed) has status (missing or malformed); only a pending project can be approved",
		"requester_unknown: the request does not say who requested the project, so the four-eyes check cannot be made; the gateway must send project.requested_by",
	]) with input as {"action": "approve_project", "user": fixtures.officer, "datasets": []}
}

# A request is allowed only when the role table allows it, even if no rule
# gives a reason (defence in depth against a rule that fails to fire).
test_allow_needs_role_table_even_without_reasons if {
	not authz.allow with input as {"action": "read_audit", "user": fixtures.analyst}
		with authz.deny as set()
}

# If building the decision fails (here: sort is made undefined), the
# gateway still gets a well-formed deny.
never(x) := x if count(x) < 0

test_fallback_decision_when_evaluation_fails if {
	decision := authz.decision with input as {"action": "read_audit", "user": fixtures.officer}
		with sort as never
	decision.allow == false
	decision.reasons == ["policy_error: the policy could not evaluate this request; a privacy officer should run the policy tests"]
	decision.obligations.review_required == true
	decision.policy_revision == fixtures.revision
}

# If even the fallback cannot be built, the constant last resort denies.
test_last_resort_decision_when_the_fallback_fails if {
	decision := authz.decision with input as {"action": "read_audit", "user": fixtures.officer}
		with sort as never
		with object.union as never_union
	decision.allow == false
	decision.policy_revision == "unversioned"
	decision.obligations.review_required == true
}

never_union(a, b) := a if count(b) < 0

# The fallback still names the revision, so the gateway shows the
# policy_error reason instead of refusing a foreign answer.
test_fallback_decision_names_the_loaded_revision if {
	decision := authz.decision with input as {"action": "read_audit", "user": fixtures.officer}
		with sort as never
		with data.policy_meta as {"revision": "f00d"}
	decision.allow == false
	decision.policy_revision == "f00d"
}

# The gateway pushes {"revision": "<sha256>"} to data.policy_meta and
# refuses an answer that names another revision.
test_decision_names_the_loaded_revision if {
	revision := concat("", ["ab" | some _ in numbers.range(1, 32)])
	decision := authz.decision with input as {"action": "read_audit", "user": fixtures.officer}
		with data.policy_meta as {"revision": revision}
	decision == object.union(fixtures.allowed(fixtures.default_obligations), {"policy_revision": revision})
}

test_revision_unversioned_unless_a_string if {
	every meta in [{}, {"revision": 42}, {"revision": null}, "oops"] {
		authz.decision.policy_revision == "unversioned" with input as {"action": "read_audit", "user": fixtures.officer}
			with data.policy_meta as meta
	}
}

test_decision_has_exactly_four_keys if {
	every request in [{}, "x", fixtures.query_request, {"action": "read_audit", "user": fixtures.officer}] {
		decision := authz.decision with input as request
		object.keys(decision) == {"allow", "reasons", "obligations", "policy_revision"}
	}
}

test_list_reviews_only_for_privacy_officers if {
	authz.decision.allow with input as {"action": "list_reviews", "today": "2026-11-23", "user": fixtures.officer}
	not authz.decision.allow with input as {"action": "list_reviews", "today": "2026-11-23", "user": fixtures.analyst}
}
