# The single entrypoint of every Maestro policy bundle: maestro/policy/decision.
#
# It gathers every deny reason from the default rules (package maestro.default) and from the
# repository's own rules (package maestro.repo, optional) and allows only when there is none.
# Repository rules can therefore add denies but never remove one: there is no allow rule to
# override, only the union of deny sets (docs/policy.md, "Repository policies").
package maestro.policy

# {allow: bool, reasons: [string], allowed_hosts: [string]}; reasons are sorted so equal inputs
# give equal decisions. allowed_hosts is the egress allow-list the engine hands to the task, so a
# task that makes further requests (the http task's redirects) checks each against the same list.
decision := {"allow": count(reasons) == 0, "reasons": reasons, "allowed_hosts": allowed_hosts}

default allowed_hosts := []

allowed_hosts := sort(hosts) if {
	hosts := data.maestro.config.allowed_hosts
	is_array(hosts)
}

reasons := sort(array.concat([r | some r in data.maestro.default.deny], repo_denies))

# A bundle without repository rules has no data.maestro.repo; the default keeps `reasons` defined.
default repo_denies := []

repo_denies := [r | some r in data.maestro.repo.deny]
