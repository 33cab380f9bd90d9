package realms

import (
	"regexp"

	"github.com/gatehouse/gatehouse/store"
)

// EventListenerLogging is the one event listener Gatehouse accepts: the
// name Keycloak realms carry by default.
const EventListenerLogging = "jboss-logging"

var eventTypeName = regexp.MustCompile(`^[A-Z][A-Z_]{0,63}$`)

func validateEventsConfig(c store.EventsConfig) error {
	for _, l := range c.Listeners {
		if l != EventListenerLogging {
			return invalid("eventsListeners", "Unknown event listener")
		}
	}
	for _, t := range c.EnabledTypes {
		if !eventTypeName.MatchString(t) {
			return invalid("enabledEventTypes", "unknown event type %q", t)
		}
	}
	if c.ExpirationSeconds < 0 {
		return invalid("eventsExpiration", "eventsExpiration must not be negative")
	}
	return nil
}
