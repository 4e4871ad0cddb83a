<?php
/**
 * Showing the ship date: stock lines (product page, variations), cart and checkout, order lines.
 *
 * Everything comes from product meta already loaded with the product: no request leaves the shop.
 *
 * @package BackorderConnector
 */

namespace BackorderConnector;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Filter `woocommerce_get_availability_text`: the stock line of a product or variation whose next
 * unit is backordered says when it ships ("Ships by 15 December") instead of WooCommerce's
 * "Available on backorder" (or nothing, when backorders are allowed without notice).
 *
 * WooCommerce builds every stock line from this text: the classic product template, the Product
 * Stock Indicator block of block themes, and the `availability_html` of each variation that its
 * own script shows when the shopper picks one.
 *
 * @param string $text    WooCommerce's availability text.
 * @param mixed  $product The WC_Product (simple product or variation).
 * @return string Escaped text (WooCommerce prints it through wp_kses_post).
 */
function availability_text( $text, $product ) {
	$value = backorder_value( $product, 1 );
	return null === $value ? $text : esc_html( shopper_message( $value ) );
}

/**
 * Filter `woocommerce_get_availability_class`: a class for themes to style the ship date by.
 *
 * @param string $class   WooCommerce's class ("available-on-backorder").
 * @param mixed  $product The WC_Product.
 * @return string
 */
function availability_class( $class, $product ) {
	return null === backorder_value( $product, 1 ) ? $class : trim( $class . ' backorder-connector-eta' );
}

/**
 * Filter `woocommerce_available_variation`: the data WooCommerce embeds in the product page for each
 * variation (as JSON, in an attribute). Its `availability_html` already carries the ship date (see
 * availability_text()); this adds the date itself, for themes and scripts that want it.
 *
 * @param array $data      The variation's data.
 * @param mixed $product   The variable product.
 * @param mixed $variation The variation.
 * @return array
 */
function variation_data( $data, $product, $variation ) {
	if ( ! is_array( $data ) ) {
		return $data;
	}
	$value = backorder_value( $variation, 1 );
	if ( null !== $value ) {
		$data['backorder_connector_eta'] = array(
			'ships_by' => $value['ships_by'],
			'message'  => shopper_message( $value ),
		);
	}
	return $data;
}

/**
 * Filter `woocommerce_get_item_data`: a "Ships by" line under each backordered item in the cart
 * and at checkout (mini-cart and the Cart and Checkout blocks use the same data).
 *
 * @param array $item_data Lines already shown for the item.
 * @param array $cart_item The cart item (`data` is its product, `quantity` how many).
 * @return array
 */
function cart_item_data( $item_data, $cart_item ) {
	if ( ! is_array( $item_data ) || ! is_array( $cart_item ) || ! isset( $cart_item['data'] ) ) {
		return $item_data;
	}
	$quantity = isset( $cart_item['quantity'] ) ? (int) $cart_item['quantity'] : 1;
	$value    = backorder_value( $cart_item['data'], $quantity );
	if ( null === $value ) {
		return $item_data;
	}
	// Escaped here: WooCommerce's cart template prints these through wp_kses_post only.
	$shown       = esc_html( format_day( $value['ships_by'] ) );
	$item_data[] = array(
		'key'     => esc_html__( 'Ships by', 'backorder-connector' ),
		'value'   => $shown,
		'display' => $shown,
	);
	return $item_data;
}

/**
 * Action `woocommerce_checkout_create_order_line_item`: the promised date on each backordered
 * line of a new order. The visible "Ships by" meta appears in the order screen and in every
 * email WooCommerce sends about the order; the hidden ISO date is for machines.
 *
 * @param mixed $item          The WC_Order_Item_Product being created.
 * @param mixed $cart_item_key Its cart key (unused).
 * @param mixed $values        The cart item (`data`, `quantity`).
 * @param mixed $order         The order (unused).
 */
function order_line_item( $item, $cart_item_key, $values, $order ) {
	if ( ! is_object( $item ) || ! method_exists( $item, 'add_meta_data' ) || ! is_array( $values ) || ! isset( $values['data'] ) ) {
		return;
	}
	$quantity = isset( $values['quantity'] ) ? (int) $values['quantity'] : 1;
	$value    = backorder_value( $values['data'], $quantity );
	if ( null === $value ) {
		return;
	}
	$item->add_meta_data( __( 'Ships by', 'backorder-connector' ), format_day( $value['ships_by'] ), true );
	$item->add_meta_data( LINE_META_KEY, $value['ships_by'], true );
}
