<?php
/**
 * WordPress's privacy tools (Tools → Export / Erase Personal Data) reach the service too.
 *
 * The service keeps what the shop's webhooks told it about a customer: their orders' contact
 * details and, for a while, the webhooks themselves. WooCommerce sends no privacy webhooks, so this
 * plugin registers an exporter and an eraser that pass each request on, as a WooCommerce webhook
 * would: to the address of the shop's own hooks to the service, signed with their secret
 * (base64 HMAC-SHA256 of the body, `X-WC-Webhook-Signature`). The service honours it as it does
 * Shopify's (adapters/woocommerce/privacy_requests.py reads it):
 * - an erasure is stored there like the hooks' deliveries and erases the person from its records
 *   within a minute or so, in order with the shop's other deliveries, retried until done;
 * - an export is answered at once (the hooks' address + /privacy-export) with what it holds, which
 *   goes into the file WordPress makes for the person; the service's Privacy page lists it too.
 *
 * Only these two callbacks call out, and only when an administrator runs the privacy tools;
 * no page of the shop does.
 *
 * @package BackorderConnector
 */

namespace BackorderConnector;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const PRIVACY_EXPORT_TOPIC = 'privacy.export_requested';
const PRIVACY_ERASE_TOPIC  = 'privacy.erase_requested';
const SERVICE_HOOK_PATH    = '/webhooks/woocommerce'; // where the service's hooks deliver.
const PRIVACY_MAX_ORDERS   = 10000; // the service refuses a request naming more.

/**
 * Filter `wp_privacy_personal_data_exporters`.
 *
 * @param array $exporters The registered exporters.
 * @return array
 */
function register_exporter( $exporters ) {
	$exporters = is_array( $exporters ) ? $exporters : array();
	$exporters[ TEXT_DOMAIN ] = array(
		'exporter_friendly_name' => __( 'Backorder Connector', 'backorder-connector' ),
		'callback'               => __NAMESPACE__ . '\\export_personal_data',
	);
	return $exporters;
}

/**
 * Filter `wp_privacy_personal_data_erasers`.
 *
 * @param array $erasers The registered erasers.
 * @return array
 */
function register_eraser( $erasers ) {
	$erasers = is_array( $erasers ) ? $erasers : array();
	$erasers[ TEXT_DOMAIN ] = array(
		'eraser_friendly_name' => __( 'Backorder Connector', 'backorder-connector' ),
		'callback'             => __NAMESPACE__ . '\\erase_personal_data',
	);
	return $erasers;
}

/**
 * The exporter: the service's data about the person, for the file WordPress makes.
 *
 * @param string $email The person's email address.
 * @param int    $page  WordPress asks page by page; the one request goes with the first.
 * @return array|\WP_Error { data, done }, or the reason the service could not answer.
 */
function export_personal_data( $email, $page = 1 ) {
	if ( (int) $page > 1 ) {
		return array( 'data' => array(), 'done' => true );
	}
	$answers = ask_service( PRIVACY_EXPORT_TOPIC, $email, '/privacy-export' );
	if ( is_wp_error( $answers ) ) {
		return $answers;
	}
	$items = array();
	foreach ( $answers as $answer ) {
		if ( ! is_array( $answer ) || ! isset( $answer['export'] ) || ! is_array( $answer['export'] ) ) {
			return new \WP_Error( 'backorder_connector_answer', __( 'Backorder Connector answered with something that is not an export. Nothing was lost: run it again in a few minutes.', 'backorder-connector' ) );
		}
		$items = array_merge( $items, export_items( $answer['export'] ) );
	}
	return array( 'data' => $items, 'done' => true );
}

/**
 * The eraser: asks the service to erase the person from its records.
 *
 * @param string $email The person's email address.
 * @param int    $page  WordPress asks page by page; the one request goes with the first.
 * @return array|\WP_Error { items_removed, items_retained, messages, done }, or the reason the
 *                         service could not be asked (the administrator runs the erasure again).
 */
function erase_personal_data( $email, $page = 1 ) {
	$done = array( 'items_removed' => false, 'items_retained' => false, 'messages' => array(), 'done' => true );
	if ( (int) $page > 1 ) {
		return $done;
	}
	$answers = ask_service( PRIVACY_ERASE_TOPIC, $email, '' );
	if ( is_wp_error( $answers ) ) {
		return $answers;
	}
	if ( $answers ) {
		$done['messages'][] = __( 'Backorder Connector accepted the request and erases this person from its records within a few minutes; its Privacy page shows when it is done.', 'backorder-connector' );
	}
	return $done;
}

/**
 * Sends one privacy request to every service address the shop's hooks deliver to.
 *
 * @param string $topic  PRIVACY_EXPORT_TOPIC or PRIVACY_ERASE_TOPIC.
 * @param string $email  The person's email address.
 * @param string $suffix Added to the hooks' address ('' for an erasure, which the service stores
 *                       as it does the hooks' deliveries).
 * @return array|\WP_Error Each service's answer, decoded ([] when the shop has no hook to one).
 */
function ask_service( $topic, $email, $suffix ) {
	$email = is_string( $email ) ? trim( $email ) : '';
	if ( '' === $email || ! is_email( $email ) ) {
		return new \WP_Error( 'backorder_connector_email', __( 'Backorder Connector: this is not an email address.', 'backorder-connector' ) );
	}
	$hooks = service_hooks();
	if ( ! $hooks ) {
		return array();
	}
	$body = wp_json_encode( privacy_request_body( $email ) );
	if ( ! is_string( $body ) ) {
		return new \WP_Error( 'backorder_connector_body', __( 'Backorder Connector: the request could not be written.', 'backorder-connector' ) );
	}
	$answers = array();
	foreach ( $hooks as $url => $secret ) {
		$response = wp_safe_remote_post(
			$url . $suffix,
			array(
				'body'        => $body,
				'timeout'     => 20,
				'redirection' => 0,
				'headers'     => array(
					'Content-Type'             => 'application/json',
					'X-WC-Webhook-Source'      => home_url( '/' ),
					'X-WC-Webhook-Topic'       => $topic,
					'X-WC-Webhook-Signature'   => base64_encode( hash_hmac( 'sha256', $body, $secret, true ) ), // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- WooCommerce's own webhook signature.
					'X-WC-Webhook-Delivery-ID' => wp_generate_uuid4(),
				),
			)
		);
		$status = is_wp_error( $response ) ? 0 : (int) wp_remote_retrieve_response_code( $response );
		if ( 200 !== $status ) {
			$reason = is_wp_error( $response ) ? $response->get_error_message() : sprintf( 'HTTP %d', $status );
			return new \WP_Error(
				'backorder_connector_unreachable',
				/* translators: %s: why the request failed, e.g. "HTTP 503" or a network error. */
				sprintf( __( 'Backorder Connector could not take the request (%s). Nothing was lost: run it again in a few minutes.', 'backorder-connector' ), $reason )
			);
		}
		$answers[] = json_decode( wp_remote_retrieve_body( $response ), true, 64 );
	}
	return $answers;
}

/**
 * The service's export as WordPress's export items: one per order, one per store notification it
 * keeps. Values are plain text; WordPress escapes them in the file it makes.
 *
 * @param array $export What the service answered: { orders: [...], stored_webhooks: [...] }.
 * @return array
 */
function export_items( array $export ) {
	$items = array();
	foreach ( list_of( $export['orders'] ?? null ) as $order ) {
		$lines = array();
		foreach ( list_of( $order['lines'] ?? null ) as $line ) {
			$text = sprintf( '%d × %s', (int) ( $line['quantity'] ?? 0 ), plain( $line['title'] ?? '' ) );
			if ( (int) ( $line['backordered'] ?? 0 ) > 0 ) {
				/* translators: 1: "2 × T-shirt", 2: how many of them were backordered, 3: the date they ship by (Y-m-d) or "-". */
				$text = sprintf( __( '%1$s: %2$d on backorder, ships by %3$s', 'backorder-connector' ), $text, (int) $line['backordered'], plain( $line['promised_on'] ?? '-' ) );
			}
			$lines[] = $text;
		}
		$items[] = array(
			'group_id'    => 'backorder-connector-orders',
			'group_label' => __( 'Backordered items', 'backorder-connector' ),
			'item_id'     => 'backorder-connector-order-' . plain( $order['id'] ?? '' ),
			'data'        => array(
				array( 'name' => __( 'Order', 'backorder-connector' ), 'value' => plain( $order['name'] ?? '' ) ),
				array( 'name' => __( 'Placed', 'backorder-connector' ), 'value' => plain( $order['placed_at'] ?? '' ) ),
				array( 'name' => __( 'Email', 'backorder-connector' ), 'value' => plain( $order['email'] ?? '' ) ),
				array( 'name' => __( 'Name', 'backorder-connector' ), 'value' => plain( $order['customer_name'] ?? '' ) ),
				array( 'name' => __( 'Items', 'backorder-connector' ), 'value' => implode( "\n", $lines ) ),
			),
		);
	}
	foreach ( list_of( $export['stored_webhooks'] ?? null ) as $index => $hook ) {
		$content = $hook['body'] ?? '';
		$items[] = array(
			'group_id'    => 'backorder-connector-notifications',
			'group_label' => __( 'Store notifications kept by Backorder Connector', 'backorder-connector' ),
			'item_id'     => 'backorder-connector-notification-' . $index,
			'data'        => array(
				array( 'name' => __( 'Notification', 'backorder-connector' ), 'value' => plain( $hook['topic'] ?? '' ) ),
				array( 'name' => __( 'Received', 'backorder-connector' ), 'value' => plain( $hook['received_at'] ?? '' ) ),
				array( 'name' => __( 'Content', 'backorder-connector' ), 'value' => is_string( $content ) ? $content : (string) wp_json_encode( $content, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRETTY_PRINT ) ),
			),
		);
	}
	return $items;
}

/**
 * The arrays in a list the service answered (anything else in it is skipped).
 *
 * @param mixed $value What the answer holds.
 * @return array
 */
function list_of( $value ) {
	return is_array( $value ) ? array_values( array_filter( $value, 'is_array' ) ) : array();
}

/**
 * A scalar the service answered as text ('' for anything else).
 *
 * @param mixed $value What the answer holds.
 * @return string
 */
function plain( $value ) {
	return is_scalar( $value ) && ! is_bool( $value ) ? (string) $value : '';
}

/**
 * What the service needs to find the person: their address, their account and their orders.
 *
 * @param string $email The person's email address.
 * @return array
 */
function privacy_request_body( $email ) {
	$user      = get_user_by( 'email', $email );
	$user_id   = $user ? (int) $user->ID : 0;
	$customers = $user_id ? array( $email, $user_id ) : array( $email );
	$order_ids = wc_get_orders(
		array(
			'customer' => $customers,
			'limit'    => PRIVACY_MAX_ORDERS,
			'return'   => 'ids',
		)
	);
	return array(
		'email'       => $email,
		'customer_id' => $user_id ? $user_id : null,
		'order_ids'   => array_values( array_map( 'intval', is_array( $order_ids ) ? $order_ids : array() ) ),
		'sent_at'     => time(),
	);
}

/**
 * The shop's hooks to the service: delivery address => secret, one per address (any status: a
 * hook WooCommerce disabled after failed deliveries still names the service and its secret).
 *
 * @return array
 */
function service_hooks() {
	$hooks = array();
	if ( ! class_exists( '\WC_Data_Store' ) || ! function_exists( 'wc_get_webhook' ) ) {
		return $hooks; // WooCommerce is not active: no hook delivers to the service.
	}
	$store = \WC_Data_Store::load( 'webhook' );
	foreach ( (array) $store->search_webhooks( array( 'limit' => -1 ) ) as $id ) {
		$hook = wc_get_webhook( $id );
		if ( ! $hook ) {
			continue;
		}
		$url   = (string) $hook->get_delivery_url();
		$parts = wp_parse_url( $url );
		$ours  = is_array( $parts ) && isset( $parts['path'] ) && SERVICE_HOOK_PATH === untrailingslashit( $parts['path'] )
			&& ! isset( $parts['query'] ) && ! isset( $parts['fragment'] ); // the export's address is this + /privacy-export.
		if ( $ours && '' !== (string) $hook->get_secret() && ! isset( $hooks[ untrailingslashit( $url ) ] ) ) {
			$hooks[ untrailingslashit( $url ) ] = (string) $hook->get_secret();
		}
	}
	return $hooks;
}
