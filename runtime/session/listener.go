package session

// Listeners are optional callbacks (Servlet HttpSessionListener,
// HttpSessionAttributeListener, HttpSessionIdListener). They run
// synchronously on the goroutine that caused the event, with no lock held,
// so they may call the session's methods. Nil fields are skipped.
//
// Local changes always fire them; changes from a peer (Apply) fire them only
// when the replicated manager asks to (Tomcat notifyListenersOnReplication).
type Listeners struct {
	// Created fires after a manager created and registered a session.
	Created func(s *Session)
	// Destroyed fires once when the session is invalidated or expires,
	// before its attributes are dropped (they are still readable).
	Destroyed func(s *Session)
	// AttributeAdded, AttributeReplaced and AttributeRemoved fire after the
	// change. Attribute values are never passed: read them with Get.
	AttributeAdded    func(s *Session, name string)
	AttributeReplaced func(s *Session, name string)
	AttributeRemoved  func(s *Session, name string)
	// IDChanged fires after a manager renamed the session (RenewID,
	// JvmRouteBinderValve, a peer's id change).
	IDChanged func(s *Session, oldID string)
}

type attrEvent uint8

const (
	evAdded attrEvent = iota
	evReplaced
	evRemoved
)

func (l *Listeners) attr(s *Session, ev attrEvent, name string) {
	if l == nil {
		return
	}
	var f func(*Session, string)
	switch ev {
	case evAdded:
		f = l.AttributeAdded
	case evReplaced:
		f = l.AttributeReplaced
	case evRemoved:
		f = l.AttributeRemoved
	}
	if f != nil {
		f(s, name)
	}
}

// FireCreated calls l.Created (nil-safe). Managers call it after
// registering a session.
func (l *Listeners) FireCreated(s *Session) {
	if l != nil && l.Created != nil {
		l.Created(s)
	}
}

// FireIDChanged calls l.IDChanged (nil-safe).
func (l *Listeners) FireIDChanged(s *Session, oldID string) {
	if l != nil && l.IDChanged != nil {
		l.IDChanged(s, oldID)
	}
}
