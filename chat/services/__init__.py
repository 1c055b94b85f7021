"""Chat writes, split by subject. Each public function is one state change in one transaction."""
