<?php
/**
 * Showing the ship date: product page, variation change, cart and checkout, order lines.
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
 * The paragraph shown under the price for a backordered item.
 *
 * @param array $value A backorder value.
 * @return string Escaped HTML.
 */
function eta_html( array $value ) {
	return sprintf(
		'<p class="backorder-connector-eta" data-ships-by="%s">%s</p>',
		esc_attr( $value['ships_by'] ),
		esc_html( shopper_message( $value ) )
	);
}

/**
 * Filter `woocommerce_get_stock_html`: WooCommerce's stock line on the product page of a simple
 * product, followed by the ship date when its next unit is backordered. Variations are served by
 * variation_data() (their stock line is built through this filter too, so they are skipped here).
 *
 * @param string $html    WooCommerce's stock HTML.
 * @param mixed  $product The WC_Product shown.
 * @return string
 */
function stock_html( $html, $product ) {
	if ( ! is_object( $product ) || ! method_exists( $product, 'is_type' ) || $product->is_type( 'variation' ) ) {
		return $html;
	}
	$value = backorder_value( $product, 1 );
	return null === $value ? $html : $html . eta_html( $value );
}

/**
 * Filter `woocommerce_available_variation`: the data WooCommerce embeds in the product page for each
 * variation. Its `availability_html` is what WooCommerce's own script shows when the shopper picks
 * that variation, so the right date appears at once, with no script of ours and no request.
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
	if ( null === $value ) {
		return $data;
	}
	$data['availability_html']      = ( isset( $data['availability_html'] ) ? $data['availability_html'] : '' ) . eta_html( $value );
	$data['backorder_connector_eta'] = array(
		'ships_by' => $value['ships_by'],
		'message'  => shopper_message( $value ),
	);
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
