# METADATA
# title: Decision-log masking
# description: >-
#   OPA writes every decision to its decision log. The gateway owns this
#   policy (it is not part of the privacy officers' set and cannot be
#   changed through the API): it removes the fields that name people or
#   projects from each logged input, so the log shows what was decided and
#   why, never who or which reference.
package system.log

mask contains "/input/user/username"

mask contains "/input/project/name"

mask contains "/input/project/requested_by"

mask contains "/input/project/fields"

mask contains "/input/review/requested_by"
