# The default rules, one `deny` per rule. Each message is shown to people (task log, `maestro runs
# show`, the run's check run), so it says what was wrong and how to fix it.
# Configuration lives in data (data.json beside this file, data.maestro.config) so operators and
# repositories can change allow-lists without touching the rules.
#
# Note: the wasm target formats with a JavaScript sprintf that knows %s and %d but not %q; quote by hand.
package maestro.default

cfg := data.maestro.config

# The catalog task name of `uses`, e.g. "sig.export" from "tasks/sig.export@1.0.0" or from the
# resolved "sig.export@1.0.0" the engine sends.
task_name := name if {
	is_string(input.task.uses)
	name := split(trim_prefix(input.task.uses, "tasks/"), "@")[0]
}

# Why this task touches a sensitive target (empty when it does not).
sensitive_because contains sprintf("task %s is marked sensitive", [task_name]) if {
	task_name in cfg.sensitive_tasks
}

sensitive_because contains sprintf("namespace %s is marked sensitive", [input.namespace]) if {
	input.namespace in cfg.sensitive_namespaces
}

sensitive_because contains sprintf("label %s is marked sensitive", [label]) if {
	some key, value in object.get(input.workflow, "labels", {})
	label := sprintf("%s=%s", [key, value])
	label in cfg.sensitive_labels
}

has_text(value) if {
	is_string(value)
	trim_space(value) != ""
}

# Rule 1 (SM-141): a task touching a sensitive target needs the workflow's purpose, authority and
# license (spec.policy), so every sensitive run is tied to why, on whose authority and under
# which terms.
deny contains msg if {
	count(sensitive_because) > 0
	some field in ["purpose", "authority", "license"]
	not has_text(object.get(input.policy, field, null))
	msg := sprintf("task %s touches a sensitive target (%s) but spec.policy.%s is missing: set it in the manifest", [input.task.id, concat(", ", sort(sensitive_because)), field])
}

# Rule 2: a license outside the allow-list (data.maestro.config.allowed_licenses) is denied.
# An absent license is Rule 1's business; a present, unknown one is always denied.
deny contains msg if {
	license := object.get(input.policy, "license", null)
	has_text(license)
	not license in cfg.allowed_licenses
	msg := sprintf("license \"%s\" is not on the allow-list (%s)", [license, concat(", ", sort(cfg.allowed_licenses))])
}

# Rule 3: privileged execution is denied on every runner.
deny contains msg if {
	input.task.privileged == true
	msg := sprintf("task %s asks for a privileged runner (%s): privileged execution is not allowed", [input.task.id, input.task.runner])
}

# Rule 4: host networking is denied on every runner.
deny contains msg if {
	input.task.hostNetwork == true
	msg := sprintf("task %s asks for host networking: host networking is not allowed", [input.task.id])
}

# Rule 5: every host an HTTP-style task contacts must be on the allow-list
# (data.maestro.config.allowed_hosts; an entry "*.example.com" allows any subdomain of it).
deny contains msg if {
	some host in input.task.targetHosts
	not host_allowed(lower(host))
	msg := sprintf("task %s contacts host %s, which is not on the outbound allow-list", [input.task.id, host])
}

# Rule 6: an HTTP-style task (data.maestro.config.http_tasks) whose hosts are unknown cannot be
# checked against the allow-list, so it is denied while require_known_hosts is true.
deny contains msg if {
	cfg.require_known_hosts == true
	task_name in cfg.http_tasks
	count(input.task.targetHosts) == 0
	msg := sprintf("task %s is an HTTP task whose target hosts are unknown: the outbound allow-list cannot be checked", [input.task.id])
}

host_allowed(host) if host in cfg.allowed_hosts

host_allowed(host) if {
	some pattern in cfg.allowed_hosts
	startswith(pattern, "*.")
	endswith(host, trim_prefix(pattern, "*"))
}
