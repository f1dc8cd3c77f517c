package deltamgr

import (
	"slices"
	"sync"
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

// The sender rules (issue 11): what a peer's message may do. Each refusal
// is counted by rule (Stats.Refused) and logged at most once per
// refuseLogEvery per rule, with the count suppressed meanwhile.

// rule names one sender rule, for counting and logging. Append only.
type rule uint8

const (
	ruleGetAllOlder  rule = iota // GET_ALL_SESSIONS from a member older than this node
	ruleGetAllNobody             // GET_ALL_SESSIONS from a name that never became a member
	rulePrincipal                // a DELTA or a record set the principal without ReplicatePrincipal
	ruleBadID                    // a session id of the wrong length or alphabet
	ruleRoute                    // a new session id whose route is no known member
	ruleMaxInactive              // MaxInactive above the context's, capped
	nRules
)

var ruleNames = [nRules]string{
	ruleGetAllOlder:  "get_all_from_older_member",
	ruleGetAllNobody: "get_all_from_non_member",
	rulePrincipal:    "principal_not_replicated",
	ruleBadID:        "bad_session_id",
	ruleRoute:        "unknown_route",
	ruleMaxInactive:  "max_inactive_capped",
}

// refuseLogEvery is the rate limit of one rule's log line.
const refuseLogEvery = 10 * time.Second

// maxIDBase and maxRoute bound a session id from the wire: Tomcat's
// sessionIdLength is in bytes, rendered as 2 hex characters each; 64
// bytes (128 characters) is far above any configuration.
const (
	maxIDBase = 128
	maxRoute  = 64
)

// maxPendingGetAll bounds the GET_ALL_SESSIONS held because their sender
// is not (yet) a member: membership can lag the first message.
const maxPendingGetAll = 16

// limiter rate-limits one rule's log line. Safe for concurrent use.
type limiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether to log now, and how many lines were suppressed.
func (l *limiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < refuseLogEvery {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}

// refuse counts a refusal under r and logs it, rate-limited.
func (m *Manager) refuse(r rule, from string, k Kind, id string) {
	m.stats.refused[r].Add(1)
	ok, suppressed := m.limits[r].allow(time.Now())
	if !ok {
		return
	}
	ev := m.log.Warn().Str("rule", ruleNames[r]).Str("peer", from).Str("kind", k.String()).Int("suppressed", suppressed)
	if id != "" {
		ev = ev.Str("session_id", session.LogID(id))
	}
	ev.Msg("refused a session message")
}

// validID reports whether id has the shape of a session id: a base of
// 1..maxIDBase characters [A-Za-z0-9_-] and an optional ".route" (a valid
// jvmRoute of at most maxRoute characters).
func validID(id string) bool {
	base, route := session.SplitID(id)
	if len(base) > maxIDBase || !session.ValidRoute(base) {
		return false
	}
	if route == "" {
		return len(base) == len(id)
	}
	return len(route) <= maxRoute && session.ValidRoute(route)
}

// knownRoute reports whether a session id may name a new session here: no
// route, or the route of this node, of the sender or of a member.
func (m *Manager) knownRoute(id, from string) bool {
	_, route := session.SplitID(id)
	return route == "" || route == from || route == m.cl.Self() || slices.Contains(m.cl.Members(), route)
}

// capMaxInactive returns mi capped by the context's MaxInactive (when it
// has one: <= 0 never expires, and a peer may then ask for anything).
func (m *Manager) capMaxInactive(mi time.Duration) (time.Duration, bool) {
	local := m.cfg.MaxInactive
	if local <= 0 || (mi > 0 && mi <= local) {
		return mi, false
	}
	return local, true
}

// guardDelta applies the rules to an inbound CREATED or DELTA in place:
// the principal is dropped without ReplicatePrincipal, MaxInactive capped.
func (m *Manager) guardDelta(from string, msg *Message, d *Delta) {
	if d.PrincipalSet && !m.cfg.ReplicatePrincipal {
		d.PrincipalSet, d.Principal, d.AuthType = false, "", ""
		m.refuse(rulePrincipal, from, msg.Kind, msg.SessionID)
	}
	if d.MaxInactiveSet {
		var capped bool
		if d.MaxInactive, capped = m.capMaxInactive(d.MaxInactive); capped {
			m.refuse(ruleMaxInactive, from, msg.Kind, msg.SessionID)
		}
	}
}

// guardRecord applies the rules to one state-transfer record; it returns
// the record to install, or false.
func (m *Manager) guardRecord(from string, r session.Record) (session.Record, bool) {
	if !validID(r.ID) {
		m.refuse(ruleBadID, from, KindAllSessionData, "")
		return r, false
	}
	if !m.cfg.ReplicatePrincipal && (r.Principal != "" || r.AuthType != "") {
		r.Principal, r.AuthType = "", ""
		m.refuse(rulePrincipal, from, KindAllSessionData, r.ID)
	}
	var capped bool
	if r.MaxInactive, capped = m.capMaxInactive(r.MaxInactive); capped {
		m.refuse(ruleMaxInactive, from, KindAllSessionData, r.ID)
	}
	return r, true
}

// age says whether from may ask for the session state: only a member
// younger than this node (a joining node asks its seniors, never the
// reverse). unknown: from is not a member (yet).
type age uint8

const (
	ageUnknown age = iota
	ageYounger
	ageOlder
)

func (m *Manager) ageOf(from string) age {
	if slices.Contains(m.cl.Seniors(), from) {
		return ageOlder
	}
	if slices.Contains(m.cl.Members(), from) {
		return ageYounger
	}
	return ageUnknown
}
