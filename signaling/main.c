#include <stdio.h>
int main(void) { puts("switchboard"); return 0; }
