FROM fedora:40
RUN yum install -y httpd-2.4 && yum clean all
RUN yum install httpd
RUN yum install -y httpd-2.4
RUN yum groupinstall -y "Development Tools" && yum clean all
RUN yum module install -y nodejs:20 && yum clean all
RUN yum module install -y nodejs && yum clean all
RUN yum install -y ./local.rpm && yum clean all
RUN zypper install -y curl=8.0 && zypper clean
RUN zypper install curl
RUN zypper in -y curl>=8 && zypper cc
RUN zypper --non-interactive install curl=1 && zypper clean
RUN zypper clean && zypper install -y curl=1
RUN zypper dist-upgrade -y
RUN zypper dup -y
RUN zypper remove -y curl
RUN dnf install -y httpd-2.4.1 && dnf clean all
RUN dnf install httpd
RUN dnf install -y httpd && dnf clean all
RUN microdnf install -y httpd-2.4 && microdnf clean all
RUN dnf install -y httpd-2.4 && rm -rf /var/cache/yum/*
RUN dnf module install -y nodejs:20 && dnf clean all
RUN dnf group install -y "Tools" && dnf clean all
RUN dnf install -y python3-pip && dnf clean all
RUN dnf install -y pkg-1.2.3-1.el9 && dnf clean all
