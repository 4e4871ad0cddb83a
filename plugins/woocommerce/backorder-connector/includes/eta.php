<?php
/**
 * Reading the storefront value the service wrote into a product's meta.
 *
 * The meta is hostile until checked: anyone with edit access to a product, another plugin or an
 * import can put anything there. A value that is not exactly what the service writes is ignored
 * (the shop then shows WooCommerce's own stock text); the message is plain text, escaped on output.
 *
 * @package BackorderConnector
 */

namespace BackorderConnector;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const STATUSES    = array( 'in_stock', 'backorder', 'sold_out', 'untracked' );
const MAX_META    = 4096; // bytes of JSON; the service writes a few hundred.
const MAX_MESSAGE = 300;  // characters.

/**
 * The checked storefront value of a product or variation, or null.
 *
 * A backorder value counts only with a valid ships-by date that has not passed (in the shop's
 * time zone): a date in the past is a promise the service has not refreshed yet, never shown.
 *
 * @param mixed $product A WC_Product (simple product or variation).
 * @return array|null { status, ships_by, p50, p90, message } with dates as Y-m-d strings or null.
 */
function read_value( $product ) {
	if ( ! is_object( $product ) || ! method_exists( $product, 'get_meta' ) ) {
		return null;
	}
	$raw = $product->get_meta( META_KEY, true );
	if ( is_string( $raw ) ) {
		if ( '' === $raw || strlen( $raw ) > MAX_META ) {
			return null;
		}
		$raw = json_decode( $raw, true, 4 );
	}
	if ( ! is_array( $raw ) ) {
		return null;
	}
	$status = isset( $raw['status'] ) ? $raw['status'] : null;
	if ( ! is_string( $status ) || ! in_array( $status, STATUSES, true ) ) {
		return null;
	}
	$value = array(
		'status'   => $status,
		'ships_by' => parse_day( isset( $raw['ships_by'] ) ? $raw['ships_by'] : null ),
		'p50'      => parse_day( isset( $raw['p50'] ) ? $raw['p50'] : null ),
		'p90'      => parse_day( isset( $raw['p90'] ) ? $raw['p90'] : null ),
		'message'  => clean_message( isset( $raw['message'] ) ? $raw['message'] : '' ),
	);
	if ( 'backorder' === $status && ( null === $value['ships_by'] || $value['ships_by'] < today() ) ) {
		return null;
	}
	return $value;
}

/**
 * The backorder value of a product whose next `$quantity` units WooCommerce itself sells on
 * backorder, or null. Both must agree: the meta is written a little after stock changes, so a
 * product back in stock never shows an old ship date, and a product WooCommerce would not sell
 * on backorder never shows one.
 *
 * @param mixed $product  A WC_Product.
 * @param int   $quantity Units asked for (1 on the product page, the cart quantity in the cart).
 * @return array|null
 */
function backorder_value( $product, $quantity = 1 ) {
	if ( ! is_object( $product ) || ! method_exists( $product, 'is_on_backorder' ) ) {
		return null;
	}
	$value = read_value( $product );
	if ( null === $value || 'backorder' !== $value['status'] || ! $product->is_on_backorder( max( 1, (int) $quantity ) ) ) {
		return null;
	}
	return $value;
}

/**
 * A Y-m-d date string of a real calendar day, or null.
 *
 * @param mixed $day What the meta holds.
 * @return string|null
 */
function parse_day( $day ) {
	if ( ! is_string( $day ) || ! preg_match( '/^(\d{4})-(\d{2})-(\d{2})$/D', $day, $parts ) ) {
		return null;
	}
	return checkdate( (int) $parts[2], (int) $parts[3], (int) $parts[1] ) ? $day : null;
}

/**
 * Plain, valid UTF-8 text of at most MAX_MESSAGE characters on one line ('' otherwise).
 *
 * @param mixed $message What the meta holds.
 * @return string
 */
function clean_message( $message ) {
	if ( ! is_string( $message ) || ! preg_match( '//u', $message ) ) {
		return '';
	}
	$plain = trim( preg_replace( '/[\x00-\x1F\x7F\s]+/u', ' ', wp_strip_all_tags( $message ) ) );
	if ( preg_match( '/^.{' . MAX_MESSAGE . '}./us', $plain ) ) {
		preg_match( '/^.{' . MAX_MESSAGE . '}/us', $plain, $cut );
		$plain = rtrim( $cut[0] ) . '…';
	}
	return $plain;
}

/**
 * Today in the shop's time zone, Y-m-d.
 *
 * @return string
 */
function today() {
	return current_time( 'Y-m-d' );
}

/**
 * A Y-m-d day in the site's date format and language ("15 December 2026").
 *
 * @param string $day Y-m-d.
 * @return string
 */
function format_day( $day ) {
	$moment = new \DateTimeImmutable( $day . ' 12:00:00', wp_timezone() );
	return wp_date( get_option( 'date_format', 'F j, Y' ), $moment->getTimestamp() );
}

/**
 * The sentence shown to shoppers: the service's message, or "Ships by <date>" when it has none.
 *
 * @param array $value A value from read_value().
 * @return string Plain text (escape it on output).
 */
function shopper_message( array $value ) {
	if ( '' !== $value['message'] ) {
		return $value['message'];
	}
	/* translators: %s: the date the item ships by, in the site's date format. */
	return sprintf( __( 'Ships by %s', 'backorder-connector' ), format_day( $value['ships_by'] ) );
}

/**
 * The day as ISO 8601 with the shop's offset (start of that day), for machines.
 *
 * @param string $day Y-m-d.
 * @return string
 */
function iso_day( $day ) {
	return ( new \DateTimeImmutable( $day . ' 00:00:00', wp_timezone() ) )->format( 'c' );
}
