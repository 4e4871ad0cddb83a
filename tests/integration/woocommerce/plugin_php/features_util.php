<?php
/**
 * WooCommerce's FeaturesUtil, recording what a plugin declares (the real one lives in WooCommerce).
 */

namespace Automattic\WooCommerce\Utilities;

class FeaturesUtil {
	public static function declare_compatibility( $feature, $plugin_file, $compatible = true ) {
		bc_call( 'declare_compatibility', $feature, basename( $plugin_file ), $compatible );
		return true;
	}
}
