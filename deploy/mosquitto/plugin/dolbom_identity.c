/*
 * dolbom_identity: a Mosquitto 2.0 broker plugin (plugin API v5) that tells subscribers who
 * published a message.
 *
 * MQTT does not say who published a message. On every PUBLISH the broker receives, this
 * plugin appends an MQTT 5 user property whose name is the plugin option
 * `plugin_opt_identity_property` (default "dolbom-username") and whose value is the
 * publishing client's authenticated username. Dolbom's ingest compares it with the device
 * whose topic the message is on (docs/protocol.md, "Publisher identity").
 *
 * A client cannot forge the stamp: any user property of that name the client set itself is
 * removed first (the property list is rebuilt without it). A client with no username (an
 * anonymous client, where the broker allows them) gets no stamp, so ingest in "require" mode
 * quarantines its messages as unauthenticated. The stamp travels with the message to MQTT 5
 * subscribers whatever protocol version the publisher used (3.1.1 publishers have no
 * properties; MQTT 3.1.1 subscribers never see properties).
 *
 * Not covered: a client's will message. Mosquitto 2.0.11 publishes a will without the
 * MOSQ_EVT_MESSAGE event, so it reaches subscribers as the client wrote it: unstamped, or
 * carrying whatever user properties the client put in its will (a plugin cannot see or edit
 * them: the ACL-check event has no properties and the will is private to the broker). The
 * broker's ACL is applied to the will's topic when the will is published. Ingest accepts an
 * unstamped will only as an "offline" status (docs/protocol.md, "Publisher identity").
 *
 * Build: `make` in this folder (headers from Debian's mosquitto-dev and libmosquitto-dev);
 * the symbols it uses are exported by the broker binary, so it links to no library.
 * Configure (mosquitto.conf):
 *     plugin /usr/lib/mosquitto/dolbom_identity.so
 *     plugin_opt_identity_property dolbom-username
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>

#define DEFAULT_PROPERTY "dolbom-username"
#define OPTION_PROPERTY "identity_property"

static mosquitto_plugin_id_t *plugin_id = NULL;
static char *property_name = NULL;
/* Messages whose own stamp was removed; logged at the first and every 1000th so a client
 * cannot flood the log. The broker calls plugins from one thread. */
static unsigned long forged_count = 0;

/* True when `prop` is a user property named `name`. Returns -1 when out of memory. */
static int is_named_user_property(const mosquitto_property *prop, const char *name)
{
	char *key = NULL;
	int found;

	if (mosquitto_property_identifier(prop) != MQTT_PROP_USER_PROPERTY) {
		return 0;
	}
	if (mosquitto_property_read_string_pair(prop, MQTT_PROP_USER_PROPERTY, &key, NULL, false) == NULL) {
		return -1;
	}
	found = strcmp(key, name) == 0;
	mosquitto_free(key);
	return found;
}

/* Append a copy of the single property `prop` to `*list`. */
static int copy_property(mosquitto_property **list, const mosquitto_property *prop)
{
	int id = mosquitto_property_identifier(prop);
	int rc = MOSQ_ERR_NOMEM;
	uint8_t byte_value;
	uint16_t int16_value;
	uint32_t int32_value;
	void *binary = NULL;
	uint16_t binary_len = 0;
	char *text = NULL;
	char *key = NULL;

	switch (id) {
	case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
	case MQTT_PROP_REQUEST_PROBLEM_INFORMATION:
	case MQTT_PROP_REQUEST_RESPONSE_INFORMATION:
	case MQTT_PROP_MAXIMUM_QOS:
	case MQTT_PROP_RETAIN_AVAILABLE:
	case MQTT_PROP_WILDCARD_SUB_AVAILABLE:
	case MQTT_PROP_SUBSCRIPTION_ID_AVAILABLE:
	case MQTT_PROP_SHARED_SUB_AVAILABLE:
		if (mosquitto_property_read_byte(prop, id, &byte_value, false)) {
			rc = mosquitto_property_add_byte(list, id, byte_value);
		}
		break;
	case MQTT_PROP_SERVER_KEEP_ALIVE:
	case MQTT_PROP_RECEIVE_MAXIMUM:
	case MQTT_PROP_TOPIC_ALIAS_MAXIMUM:
	case MQTT_PROP_TOPIC_ALIAS:
		if (mosquitto_property_read_int16(prop, id, &int16_value, false)) {
			rc = mosquitto_property_add_int16(list, id, int16_value);
		}
		break;
	case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
	case MQTT_PROP_SESSION_EXPIRY_INTERVAL:
	case MQTT_PROP_WILL_DELAY_INTERVAL:
	case MQTT_PROP_MAXIMUM_PACKET_SIZE:
		if (mosquitto_property_read_int32(prop, id, &int32_value, false)) {
			rc = mosquitto_property_add_int32(list, id, int32_value);
		}
		break;
	case MQTT_PROP_SUBSCRIPTION_IDENTIFIER:
		if (mosquitto_property_read_varint(prop, id, &int32_value, false)) {
			rc = mosquitto_property_add_varint(list, id, int32_value);
		}
		break;
	case MQTT_PROP_CORRELATION_DATA:
	case MQTT_PROP_AUTHENTICATION_DATA:
		if (mosquitto_property_read_binary(prop, id, &binary, &binary_len, false)) {
			rc = mosquitto_property_add_binary(list, id, binary, binary_len);
			mosquitto_free(binary);
		}
		break;
	case MQTT_PROP_CONTENT_TYPE:
	case MQTT_PROP_RESPONSE_TOPIC:
	case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
	case MQTT_PROP_AUTHENTICATION_METHOD:
	case MQTT_PROP_RESPONSE_INFORMATION:
	case MQTT_PROP_SERVER_REFERENCE:
	case MQTT_PROP_REASON_STRING:
		if (mosquitto_property_read_string(prop, id, &text, false)) {
			rc = mosquitto_property_add_string(list, id, text);
			mosquitto_free(text);
		}
		break;
	case MQTT_PROP_USER_PROPERTY:
		if (mosquitto_property_read_string_pair(prop, id, &key, &text, false)) {
			rc = mosquitto_property_add_string_pair(list, id, key, text);
			mosquitto_free(key);
			mosquitto_free(text);
		}
		break;
	default:
		/* The broker's parser accepts no other identifier; refuse rather than lose it. */
		rc = MOSQ_ERR_INVAL;
		break;
	}
	return rc;
}

/*
 * Replace `*list` with a copy that lacks every user property named `name`. Mosquitto 2.0
 * exposes no way to unlink one property, so the list is rebuilt. On error `*list` is left
 * unchanged.
 */
static int drop_named_user_properties(mosquitto_property **list, const char *name)
{
	mosquitto_property *kept = NULL;
	const mosquitto_property *prop;
	int named;
	int rc;

	for (prop = *list; prop != NULL; prop = mosquitto_property_next(prop)) {
		named = is_named_user_property(prop, name);
		if (named < 0) {
			mosquitto_property_free_all(&kept);
			return MOSQ_ERR_NOMEM;
		}
		if (named) {
			continue;
		}
		rc = copy_property(&kept, prop);
		if (rc != MOSQ_ERR_SUCCESS) {
			mosquitto_property_free_all(&kept);
			return rc;
		}
	}
	/* The broker (2.0) takes the event's list as the message's and frees only that one. */
	mosquitto_property_free_all(list);
	*list = kept;
	return MOSQ_ERR_SUCCESS;
}

/* Whether `list` holds a user property named `name`. Returns -1 when out of memory. */
static int has_named_user_property(const mosquitto_property *list, const char *name)
{
	const mosquitto_property *prop;
	int named;

	for (prop = list; prop != NULL; prop = mosquitto_property_next(prop)) {
		named = is_named_user_property(prop, name);
		if (named != 0) {
			return named;
		}
	}
	return 0;
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *message = event_data;
	const char *username = mosquitto_client_username(message->client);
	const char *client_id = mosquitto_client_id(message->client);
	int forged;
	int rc;

	(void)event;
	(void)userdata;

	forged = has_named_user_property(message->properties, property_name);
	if (forged != 0) {
		rc = forged < 0 ? MOSQ_ERR_NOMEM
			: drop_named_user_properties(&message->properties, property_name);
		if (rc != MOSQ_ERR_SUCCESS) {
			/* Refuse the message rather than deliver one whose publisher is unproven. */
			mosquitto_log_printf(MOSQ_LOG_ERR,
				"dolbom_identity: could not remove the '%s' property set by client %s on %s (error %d); message refused",
				property_name, client_id ? client_id : "?", message->topic, rc);
			return MOSQ_ERR_ACL_DENIED;
		}
		forged_count++;
		if (forged_count == 1 || forged_count % 1000 == 0) {
			mosquitto_log_printf(MOSQ_LOG_NOTICE,
				"dolbom_identity: removed a '%s' user property set by client %s (username %s) on %s (%lu such messages since start)",
				property_name, client_id ? client_id : "?", username ? username : "none",
				message->topic, forged_count);
		}
	}
	if (username == NULL) {
		return MOSQ_ERR_SUCCESS; /* anonymous: no stamp, and none forged */
	}
	rc = mosquitto_property_add_string_pair(&message->properties, MQTT_PROP_USER_PROPERTY,
		property_name, username);
	if (rc != MOSQ_ERR_SUCCESS) {
		mosquitto_log_printf(MOSQ_LOG_ERR,
			"dolbom_identity: could not stamp a message of client %s on %s (error %d); message refused",
			client_id ? client_id : "?", message->topic, rc);
		return MOSQ_ERR_ACL_DENIED;
	}
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	int i;

	for (i = 0; i < supported_version_count; i++) {
		if (supported_versions[i] == 5) {
			return 5;
		}
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
	struct mosquitto_opt *options, int option_count)
{
	const char *name = DEFAULT_PROPERTY;
	int i;
	int rc;

	(void)userdata;
	for (i = 0; i < option_count; i++) {
		if (strcmp(options[i].key, OPTION_PROPERTY) == 0) {
			if (options[i].value == NULL || options[i].value[0] == '\0') {
				mosquitto_log_printf(MOSQ_LOG_ERR,
					"dolbom_identity: plugin_opt_%s must not be empty", OPTION_PROPERTY);
				return MOSQ_ERR_INVAL;
			}
			name = options[i].value;
		} else {
			mosquitto_log_printf(MOSQ_LOG_WARNING,
				"dolbom_identity: unknown option plugin_opt_%s ignored", options[i].key);
		}
	}
	property_name = mosquitto_strdup(name);
	if (property_name == NULL) {
		return MOSQ_ERR_NOMEM;
	}
	plugin_id = identifier;
	rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		mosquitto_free(property_name);
		property_name = NULL;
		return rc;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO,
		"dolbom_identity: every PUBLISH carries the publisher's username as user property '%s'",
		property_name);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	if (plugin_id != NULL) {
		mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL);
	}
	mosquitto_free(property_name);
	property_name = NULL;
	plugin_id = NULL;
	return MOSQ_ERR_SUCCESS;
}
