<?php
/**
 * Uninstall: removes the plugin's settings; with "Also remove the ship dates" ticked, also the
 * `_backorder_connector_eta` meta the service wrote into products and variations. The "Ships by"
 * lines on past orders stay: they are part of what the shopper was told.
 *
 * @package BackorderConnector
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

$backorder_connector_settings = get_option( 'backorder_connector_settings' );
if ( is_array( $backorder_connector_settings ) && ! empty( $backorder_connector_settings['delete_data'] ) ) {
	delete_post_meta_by_key( '_backorder_connector_eta' );
}
delete_option( 'backorder_connector_settings' );
