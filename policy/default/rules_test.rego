# Unit tests of the default rules, run by `maestro policy test` (opa test) with data.json.
package maestro.default_test

base := {
	"task": {"id": "t", "kind": "shell", "runner": "local", "resources": "small", "targetHosts": [], "privileged": false, "hostNetwork": false},
	"workflow": {"name": "w", "namespace": "default", "kind": "Workflow", "labels": {}},
	"planDigest": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
	"namespace": "default",
	"policy": {},
	"actor": "alice",
}

with_task(extra) := object.union(base, {"task": object.union(base.task, extra)})

test_plain_shell_task_allowed if {
	d := data.maestro.policy.decision with input as base
	d.allow == true
	d.reasons == []
}

# The egress allow-list travels with the decision, so tasks check redirects against it.
test_decision_carries_the_egress_allow_list if {
	d := data.maestro.policy.decision with input as base
	d.allowed_hosts == sort(data.maestro.config.allowed_hosts)
}

test_sensitive_task_without_context_denied_three_times if {
	d := data.maestro.policy.decision with input as with_task({"kind": "catalog", "uses": "tasks/sig.export@1.0.0"})
	not d.allow
	count(d.reasons) == 3
}

test_sensitive_task_with_full_context_allowed if {
	i := object.union(with_task({"kind": "catalog", "uses": "tasks/sig.export@1.0.0"}), {"policy": {"purpose": "disclosure", "authority": "legal:ombuds", "license": "internal"}})
	data.maestro.policy.decision.allow with input as i
}

test_sensitive_namespace_needs_context if {
	i := object.union(base, {"namespace": "legal"})
	not data.maestro.policy.decision.allow with input as i
}

test_sensitive_label_needs_context if {
	i := object.union(base, {"workflow": object.union(base.workflow, {"labels": {"maestro.dev/sensitive": "true"}})})
	not data.maestro.policy.decision.allow with input as i
}

test_unknown_license_denied if {
	i := object.union(base, {"policy": {"license": "WTFPL"}})
	d := data.maestro.policy.decision with input as i
	d.reasons == [sprintf("license \"%s\" is not on the allow-list (%s)", ["WTFPL", "Apache-2.0, BSD-3-Clause, CC-BY-4.0, CC0-1.0, MIT, internal"])]
}

test_privileged_denied if {
	not data.maestro.policy.decision.allow with input as with_task({"privileged": true})
}

test_host_network_denied if {
	not data.maestro.policy.decision.allow with input as with_task({"hostNetwork": true})
}

test_allowed_host_and_wildcard if {
	data.maestro.policy.decision.allow with input as with_task({"kind": "catalog", "uses": "tasks/http@1.0.0", "targetHosts": ["api.github.com", "raw.githubusercontent.com"]})
}

test_unlisted_host_denied if {
	d := data.maestro.policy.decision with input as with_task({"kind": "catalog", "uses": "tasks/http@1.0.0", "targetHosts": ["evil.example"]})
	d.reasons == ["task t contacts host evil.example, which is not on the outbound allow-list"]
}

test_http_task_with_unknown_hosts_denied if {
	not data.maestro.policy.decision.allow with input as with_task({"kind": "catalog", "uses": "tasks/http@1.0.0"})
}

test_repository_denies_are_added if {
	d := data.maestro.policy.decision with input as base with data.maestro.repo.deny as {"repo says no"}
	d.allow == false
	d.reasons == ["repo says no"]
}

test_resolved_uses_without_prefix_is_recognised if {
	d := data.maestro.policy.decision with input as with_task({"kind": "catalog", "uses": "sig.export@1.2.3"})
	count(d.reasons) == 3
}
