<?php
/**
 * schema.org markup: a backordered product's Offer says BackOrder and when the next unit ships.
 *
 * @package BackorderConnector
 */

namespace BackorderConnector;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Filter `woocommerce_structured_data_product_offer`: `availability` BackOrder and
 * `availabilityStarts` (the ships-by date, ISO 8601 with the shop's offset) on the product's offer.
 * A variable product takes the earliest date of its backordered variations, and only when none
 * of them is in stock (otherwise the offer stays InStock, as WooCommerce says).
 *
 * @param array $markup  The Offer (or AggregateOffer) WooCommerce built.
 * @param mixed $product The WC_Product.
 * @return array
 */
function structured_offer( $markup, $product ) {
	if ( ! is_array( $markup ) || ! is_object( $product ) || ! method_exists( $product, 'is_type' ) ) {
		return $markup;
	}
	$day = $product->is_type( 'variable' ) ? earliest_variation_day( $product ) : null;
	if ( ! $product->is_type( 'variable' ) ) {
		$value = backorder_value( $product, 1 );
		$day   = null === $value ? null : $value['ships_by'];
	}
	if ( null === $day ) {
		return $markup;
	}
	$markup['availability']       = 'https://schema.org/BackOrder';
	$markup['availabilityStarts'] = iso_day( $day );
	return $markup;
}

/**
 * The earliest ships-by date among a variable product's backordered variations, or null when
 * one of them is in stock or none has a date.
 *
 * @param mixed $product A variable WC_Product.
 * @return string|null
 */
function earliest_variation_day( $product ) {
	if ( ! method_exists( $product, 'get_children' ) || ! function_exists( 'wc_get_product' ) ) {
		return null;
	}
	$earliest = null;
	foreach ( (array) $product->get_children() as $child_id ) {
		$variation = wc_get_product( $child_id );
		if ( ! is_object( $variation ) || ! method_exists( $variation, 'get_stock_status' ) ) {
			continue;
		}
		if ( 'instock' === $variation->get_stock_status() ) {
			return null;
		}
		$value = backorder_value( $variation, 1 );
		if ( null !== $value && ( null === $earliest || $value['ships_by'] < $earliest ) ) {
			$earliest = $value['ships_by'];
		}
	}
	return $earliest;
}
