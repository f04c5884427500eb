# METADATA
# title: Sluis authorisation decision
# description: >-
#   The one decision the gateway asks for: data.sluis.authz.decision, an
#   object {allow, reasons, obligations, policy_revision}. It is defined
#   for every input.
#   A request is allowed only when the caller's role may perform the
#   action and no rule of the action's package gives a reason to deny.
#   Every reason names its rule and says what would make the request
#   allowed. The obligations tell the anonymiser how strictly to check
#   the output (see sluis.obligations). policy_revision names the policy
#   set that decided, so the gateway can check it asked the set it loaded.
package sluis.authz

import data.sluis.lib
import data.sluis.obligations
import data.sluis.rules.datasets
import data.sluis.rules.oversight
import data.sluis.rules.projects
import data.sluis.rules.query

# Which roles may perform each action. Rules in sluis.rules.* narrow this
# further (a steward approves only projects that use its organisation's data).
action_roles := {
	"upload_dataset": {"steward"},
	"view_dataset": {"steward", "analyst", "privacy_officer"},
	"create_project": {"analyst", "privacy_officer"},
	"approve_project": {"privacy_officer", "steward"},
	"query": {"analyst"},
	"review": {"privacy_officer"},
	"list_reviews": {"privacy_officer"},
	"read_audit": {"privacy_officer"},
	"edit_policy": {"privacy_officer"},
}

# Actions that need the project, query or review object in the input.
needs_project := {"create_project", "approve_project", "query"}

# Returned only if building the decision itself fails: deny, safely.
policy_error := {
	"allow": false,
	"reasons": ["policy_error: the policy could not evaluate this request; a privacy officer should run the policy tests"],
	"obligations": {
		"min_entities": 10,
		"dominance_n": 2,
		"dominance_k": 85,
		"p_percent": 10,
		"rounding_base": 1,
		"review_required": true,
	},
}

decision := d if {
	d := {
		"allow": allow,
		"reasons": reasons,
		"obligations": obligations.in_force,
		"policy_revision": policy_revision,
	}
} else := object.union(policy_error, {"policy_revision": policy_revision})

# Last resort, if even the fallback above cannot be built (a default may
# hold constants only, so it cannot name the revision).
default decision := {
	"allow": false,
	"reasons": ["policy_error: the policy could not evaluate this request; a privacy officer should run the policy tests"],
	"obligations": {
		"min_entities": 10,
		"dominance_n": 2,
		"dominance_k": 85,
		"p_percent": 10,
		"rounding_base": 1,
		"review_required": true,
	},
	"policy_revision": "unversioned",
}

# The revision of the policy set in force. The gateway pushes
# {"revision": "<sha256 of the set>"} to data.policy_meta when it loads a
# set and refuses an answer that names another; under `opa test` there is
# no such data, so the tests see "unversioned".
policy_revision := r if {
	r := data.policy_meta.revision
	is_string(r)
} else := "unversioned"

default allow := false

allow if {
	count(deny) == 0
	lib.role in action_roles[lib.action]
}

reasons := sort(deny)

# The reasons to deny, from the role table and the action's rules.
deny contains msg if {
	not lib.action in lib.actions
	msg := sprintf(
		"unknown_action: action %s is not known to the policy; the gateway can ask only for %s",
		[lib.label(lib.action), lib.labels(lib.actions)],
	)
}

deny contains msg if {
	not lib.role in lib.roles
	msg := sprintf(
		"unknown_role: your role %s is not one of %s; ask an admin to give you a valid role",
		[lib.label(lib.role), lib.labels(lib.roles)],
	)
}

deny contains msg if {
	lib.role in lib.roles
	allowed := action_roles[lib.action]
	not lib.role in allowed
	msg := sprintf(
		"role_not_permitted: action %s is open only to %s; your role is %s, so ask someone with one of those roles to do it",
		[lib.action, lib.labels(allowed), lib.role],
	)
}

deny contains "malformed_datasets: the request's datasets must be a list of objects; the gateway sent something else" if {
	lib.malformed_datasets
}

deny contains msg if {
	lib.action in needs_project
	not is_object(lib.field(input, "project"))
	msg := sprintf(
		"missing_project: action %s needs the project, but the request holds none; the gateway must send it",
		[lib.action],
	)
}

deny contains "missing_review: the request holds no review; the gateway must send the output's requester" if {
	lib.action == "review"
	not is_object(lib.field(input, "review"))
}

# The reasons of the action's own rules. Each clause tests input.action
# first, so OPA evaluates only the rules of the action asked for (it indexes
# the clauses by action), not those of every action.
deny contains msg if {
	input.action == "upload_dataset"
	some msg in datasets.upload
}

deny contains msg if {
	input.action == "view_dataset"
	some msg in datasets.view
}

deny contains msg if {
	input.action == "create_project"
	some msg in projects.create
}

deny contains msg if {
	input.action == "approve_project"
	some msg in projects.approve
}

deny contains msg if {
	input.action == "query"
	some msg in query.deny
}

deny contains msg if {
	input.action == "review"
	some msg in oversight.review
}
